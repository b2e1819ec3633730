"""Every differentiable op, each a ``Function`` with its forward and gradient rule side by side.

- ``arithmetic.py``  + - * / ** and negation
- ``unary.py``       exp, log, sqrt, abs, relu, sigmoid, tanh, clip, log1p, expm1, log2, log10,
                     sin, cos, tan, sinh, cosh, square, erf, sign, floor, ceil
- ``activations.py`` leaky_relu, softplus, elu, gelu, silu, log_sigmoid
- ``reduce.py``      sum, mean, max, min, prod, var, std, logsumexp, norm; cumsum
- ``shape.py``       reshape, transpose, broadcast_to, indexing, concatenate, stack, and built
                     from them squeeze, unsqueeze, flatten, expand, moveaxis, split, chunk
- ``arrange.py``     pad, flip, roll, tile, repeat, tril, triu, diagonal, trace, diag
- ``linalg.py``      matmul, the fused linear layer W @ X + b, einsum (and tensordot, outer, dot)
- ``cast.py``        astype
- ``select.py``      maximum, minimum, where
- ``softmax.py``     softmax, log_softmax
- ``helpers.py``     the few functions rules use that take numpy arrays and Tensors alike
- ``broadcasting.py`` unbroadcast: the engine sums a broadcast gradient back to its input's shape
"""
