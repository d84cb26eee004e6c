"""charrnn: train, sample and look inside character-level RNN language models.

    import charrnn
    m = charrnn.load("runs/mytext")
    print(m.sample(prime="The ", length=200, seed=1))
    charrnn.train("mytext.txt", time="2m")

The API is in api.py; importing charrnn imports neither torch nor numpy.
"""

__version__ = "0.3.0"


def load(path):
    """A trained model: a run directory, a checkpoint file or an export (api.Model)."""
    from charrnn.api import load

    return load(path)


def train(path, **options):
    """Trains on a text file with `charrnn train`'s options as keyword arguments (progress on
    stderr unless progress=False); returns the run's figures, usable as its directory's path
    (api.train, api.TrainSummary)."""
    from charrnn.api import train

    return train(path, **options)
