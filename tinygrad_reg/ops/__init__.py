"""Every differentiable op, each a ``Function`` with its forward and gradient rule side by side.

- ``arithmetic.py``  + - * / ** and negation
- ``unary.py``       exp, log, sqrt, abs, relu, sigmoid, tanh, clip
- ``reduce.py``      sum, mean, max, min
- ``shape.py``       reshape, transpose, broadcast_to, indexing, concatenate, stack, and built
                     from them squeeze, unsqueeze, flatten, expand, moveaxis, split, chunk
- ``arrange.py``     pad, flip, roll, tile, repeat, tril, triu, diagonal, trace, diag
- ``linalg.py``      matmul, the fused linear layer W @ X + b, einsum (and tensordot, outer, dot)
- ``cast.py``        astype
- ``select.py``      maximum, minimum, where
- ``softmax.py``     softmax, log_softmax
- ``helpers.py``     the few functions rules use that take numpy arrays and Tensors alike
"""
