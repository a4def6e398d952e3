"""The woonvisie maps of 'Exporteer woonvisiekaarten', built with PyQGIS only (no engine import).

One module per idea: ``copies`` (memory copies of the input layers in one map CRS),
``coverage`` (the atlas coverage: overview plus one page per gemeente, with the counts),
``texts`` (what the maps say: key figures, credits, file names, the font), ``symbology`` (how
every layer is drawn), ``layout`` (the A4 print layout and its items) and ``export`` (PDF and
PNG). The Processing algorithm itself is ``qgis_plugin/algorithms/exporteer_kaarten.py``.
"""
