"""Photos and scanned images (.jpg .jpeg .png .tif .tiff .bmp .webp): every frame is OCR'd
(``ocr.py``); a multi-page TIFF keeps its page numbers, a single image is page 1."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputFileError
from ..schema import Document
from .common import check_file, make_document
from .layout import assemble
from .ocr import Progress, ocr_metadata, recognise_pages

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")
MAX_PIXELS = 120_000_000  # a 600 dpi A0 scan; larger “images” are decompression bombs
MAX_FRAMES = 500


def load_image(path: Path, *, max_file_mb: float, progress: Progress | None = None) -> Document:
    check_file(path, max_file_mb=max_file_mb)
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        image = Image.open(path)
        frames = getattr(image, "n_frames", 1)
        if frames > MAX_FRAMES:
            raise InputFileError(
                path, f"图片有 {frames} 页，超过上限 {MAX_FRAMES} 页；请拆分后再导入", code="too_many_pages"
            )
        if image.width * image.height > MAX_PIXELS:
            raise Image.DecompressionBombError("too many pixels")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InputFileError(path, "不是有效的图片文件（文件已损坏或格式不符）", code="corrupt_file") from None
    except Image.DecompressionBombError:
        raise InputFileError(
            path, f"图片像素过多（超过 {MAX_PIXELS // 1_000_000} 百万像素），疑似图片炸弹，已拒绝", code="zip_bomb"
        ) from None

    def pages():
        for frame in ImageSequence.Iterator(image):
            yield ImageOps.exif_transpose(frame.convert("RGB"))  # photos taken sideways

    try:
        recognised, run = recognise_pages(pages(), frames, path, progress)
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputFileError(
            path, f"图片无法解码（{type(exc).__name__}），文件可能已损坏", code="corrupt_file"
        ) from None
    finally:
        image.close()
    built = assemble(recognised)
    if not built.text.strip():
        raise InputFileError(path, "图片里没有识别出文字；请确认图片清晰、方向正确", code="empty_file")
    metadata = {"page_count": frames, "ocr": ocr_metadata(run, built, list(range(1, frames + 1)))}
    if built.empty_pages:
        metadata["pages_without_text"] = built.empty_pages
    return make_document(
        text=built.text,
        source=str(path),
        file_type=path.suffix.lower().lstrip("."),
        blocks=built.blocks,
        pages=built.pages,
        fallback_title=path.stem,
        metadata=metadata,
    )
