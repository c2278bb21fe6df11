"""The parts of the boards page (pages/boards.py): a tile's data and each tile kind's drawing."""
