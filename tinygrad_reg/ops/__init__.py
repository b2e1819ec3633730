"""Every differentiable op, each a ``Function`` with its forward and gradient rule side by side.

- ``arithmetic.py``  + - * / ** and negation, atan2, logaddexp, lerp
- ``unary.py``       exp, log, sqrt, abs, relu, sigmoid, tanh, clip, log1p, expm1, log2, log10,
                     sin, cos, tan, sinh, cosh, square, erf, sign, floor, ceil, round,
                     asin, acos, atan, asinh, acosh, atanh, rsqrt
- ``activations.py`` leaky_relu, softplus, elu, gelu, silu, log_sigmoid
- ``reduce.py``      sum, mean, max, min, prod, var, std, logsumexp, norm; cumsum
- ``shape.py``       reshape, transpose, broadcast_to, indexing, concatenate, stack, and built
                     from them squeeze, unsqueeze, flatten, expand, moveaxis, split, chunk,
                     unbind, hstack, vstack
- ``index.py``       gather, scatter, scatter_add, index_select, index_add, masked_fill
- ``sort.py``        sort, argsort, topk, median, quantile
- ``cumulative.py``  cumprod, logcumsumexp, cummax, cummin
- ``conv.py``        conv2d, max_pool2d, avg_pool2d (im2col: Unfold and its adjoint Fold)
- ``arrange.py``     pad, flip, roll, tile, repeat, tril, triu, diagonal, trace, diag
- ``linalg.py``      matmul, the fused linear layer W @ X + b, einsum (and tensordot, outer, dot)
- ``cast.py``        astype
- ``select.py``      maximum, minimum, where, clamp
- ``softmax.py``     softmax, log_softmax
- ``tensor_methods.py`` the Tensor methods of index, sort, cumulative and the newer elementwise ops
- ``helpers.py``     the few functions rules use that take numpy arrays and Tensors alike
- ``broadcasting.py`` unbroadcast: the engine sums a broadcast gradient back to its input's shape
"""
