"""Every differentiable op, each a ``Function`` with its forward and gradient rule side by side.

- ``arithmetic.py``  + - * / ** and negation
- ``unary.py``       exp, log, sqrt, abs, relu, sigmoid, tanh, clip
- ``reduce.py``      sum, mean, max, min
- ``shape.py``       reshape, transpose, broadcast_to, indexing, concatenate, stack
- ``linalg.py``      matmul and the fused linear layer W @ X + b
- ``select.py``      maximum, minimum, where
- ``softmax.py``     softmax, log_softmax
- ``helpers.py``     the few functions rules use that take numpy arrays and Tensors alike
"""
