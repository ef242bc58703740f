"""Each stage's work, Prefect-free: one module per stage, one function per stage.

    segment.py     photo -> cutout (once per product; a model batch where it batches)
    background.py  the master backdrop
    composite.py   retouch + layered master (background, shadow, product)
    layout.py      where the copy goes on the master
    text.py        the copy set on the master
    renditions.py  every platform re-composed from the layers
    publish.py     files, rows, contact sheet, report

Every stage function takes the run's resolved `RunConfig`, a batch of `ProductJob`s and
the backend it runs (looked up by the task above it), and returns one outcome per
product: the job with this stage's manifest, or the exception that failed that product
alone. Results are stored under content keys (`adforge.stagecache`), so a re-run resumes.
"""
