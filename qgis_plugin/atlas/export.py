"""Export the atlas: one multi-page PDF, and/or one PNG per page (named by the coverage's
``bestand``)."""

from __future__ import annotations

import os
import time

from qgis.core import (
    QgsLayoutExporter,
    QgsProcessingException,
    QgsProcessingMultiStepFeedback,
    QgsRenderContext,
)
from qgis.PyQt.QtCore import QSize

__all__ = ["export_pdf", "export_pngs"]


def export_pdf(layout, atlas, path: str, feedback, step: int, steps: int) -> None:
    settings = QgsLayoutExporter.PdfExportSettings()
    settings.dpi = 300
    settings.rasterizeWholeImage = False
    settings.forceVectorOutput = False
    settings.textRenderFormat = QgsRenderContext.TextFormatAlwaysText
    settings.appendGeoreference = True
    settings.exportMetadata = True
    settings.simplifyGeometries = True
    multi = QgsProcessingMultiStepFeedback(steps, feedback)
    multi.setCurrentStep(step)
    if os.path.exists(path):
        os.remove(path)
    result, error = QgsLayoutExporter.exportToPdf(atlas, path, settings, multi)
    if feedback.isCanceled() or result == QgsLayoutExporter.Canceled:
        raise QgsProcessingException("Het maken van de kaarten is afgebroken.")
    if result != QgsLayoutExporter.Success:
        raise QgsProcessingException(f"De PDF '{path}' kon niet worden gemaakt: {error or result}")


def export_pngs(
    layout, atlas, out_dir: str, dpi: int, feedback, step: int, steps: int
) -> list[str]:
    # renderPageToImage + QImage.save rather than exportToImage: the latter also asks GDAL to
    # georeference the PNG in place, which the PNG driver refuses with an error line in every log.
    exporter = QgsLayoutExporter(layout)
    dots_per_metre = int(round(dpi / 0.0254))
    paths: list[str] = []
    if not atlas.beginRender():
        raise QgsProcessingException("De atlas over de gemeenten kon niet worden gestart.")
    try:
        count = atlas.count()
        for i in range(count):
            if feedback.isCanceled():
                raise QgsProcessingException("Het maken van de kaarten is afgebroken.")
            t0 = time.monotonic()
            if not atlas.seekTo(i):
                raise QgsProcessingException(f"Atlaspagina {i + 1} kon niet worden gemaakt.")
            path = os.path.join(out_dir, atlas.currentFilename() + ".png")
            image = exporter.renderPageToImage(0, QSize(), dpi)
            image.setDotsPerMeterX(dots_per_metre)
            image.setDotsPerMeterY(dots_per_metre)
            if image.isNull() or not image.save(path, "PNG"):
                raise QgsProcessingException(f"De kaart '{path}' kon niet worden geschreven.")
            paths.append(path)
            name = atlas.nameForPage(i) or atlas.currentFilename()
            feedback.pushInfo(
                f"Kaart {i + 1}/{count}: {name} → {os.path.basename(path)} "
                f"({time.monotonic() - t0:.2f} s)"
            )
            feedback.setProgress(100.0 * (step + (i + 1) / count) / steps)
    finally:
        atlas.endRender()
    return paths
