"""The benchmark (`python -m bench`): kept out of the installed package."""
