"""Data: preparing CAMUS sources, phantom data sets, and the training dataset.

One job per module: :mod:`.layout` (the prepared folder layout, stems, patient splits),
:mod:`.manifest` (``manifest.json``), :mod:`.seed_hdf5` and :mod:`.camus` (the source and
export layouts), :mod:`.sources` (format detection and one reader over all sources),
:mod:`.imaging` (frame conversion, resizing, PNG), :mod:`.export_layouts` (the export layouts described,
for the command line and the studio), :mod:`.staging` (write-then-rename
output folders), :mod:`.parallel` (process pool), :mod:`.prepare`, :mod:`.phantom`,
:mod:`.augment` and :mod:`.dataset`. Importing this package imports none of them.
"""
