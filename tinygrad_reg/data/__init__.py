"""Data in the course layout: the generated datasets and the readers for your own files.

``datasets.py`` draws seeded 2-D datasets (X of shape (2, m), Y of shape (1, m)) and loads
``.npz``, ``.mat`` and ``.csv`` files, checking shapes, labels and layout; ``npzfile.py`` reads
``.npz`` archives safely (headers checked before any data is read, one error type for every
damaged file), for the loaders here and for checkpoints (``train/checkpoint.py``);
``digits.py`` loads scikit-learn's 8×8 handwritten digits (the optional ``digits`` extra).
``loader.py`` holds ``DataLoader``, PyTorch's mini-batch iterator over (X, Y), and
``generators.py`` the states of random generators as JSON (the loader's, the dropout masks'),
so that a saved run continues exactly.
"""

from .datasets import DataError, Dataset, load, load_file, names
from .digits import load_digits
from .loader import DataLoader

__all__ = ["DataError", "DataLoader", "Dataset", "load", "load_digits", "load_file", "names"]
