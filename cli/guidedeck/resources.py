"""Finding the data that ships with guidedeck: card templates and the default deck source."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def data_dir(name: str) -> Path:
    """The packaged folder ``name`` (``templates`` or ``deck_source``).

    An installed wheel carries both folders inside the package; an editable install of a source
    checkout does not, so there they are found at the top of the checkout, where they live.
    """
    packaged = resources.files("guidedeck").joinpath(name)
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"guidedeck is installed without its {name}/ folder")
