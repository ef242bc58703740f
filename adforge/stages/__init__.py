"""Each stage's work, Prefect-free: one module per stage, one function per stage.

    segment.py     photo -> cutout, once per product (a model batch where it batches)
    background.py  every canvas's backdrop at its own size (or, recomposing, the nearest
                   stored one cover-fitted)
    composite.py   each canvas's layers: the product retouched toward its backdrop and
                   placed in the safe area, its shadow
    layout.py      where the copy goes on each canvas
    text.py        the copy set on each canvas (edit or typesetting), the logo: the ad
    publish.py     files, rows, contact sheet, report

A canvas is a product at one platform's size (`job.CanvasJob`): after segmentation it is
the unit of work. Every stage function takes the run's resolved `RunConfig`, a batch of
`ProductJob`s and the backend it runs (looked up by the task above it), runs over every
canvas of the batch, and returns one outcome per product: the job with this stage's
manifests, or the exception that failed that product alone. Results are stored under
content keys (`adforge.stagecache`), so a re-run resumes and a canvas already made is a
cache hit.
"""
