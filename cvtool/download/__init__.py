"""Official datasets and pretrained weights: resumable, verified downloads (`cvtool download`).

`datasets.download_dataset` and `weights.download_weights` are the entry points; `catalogue`
holds the sources. The package imports nothing on its own, so the CLI can read the catalogue
without loading the HTTP stack.
"""
