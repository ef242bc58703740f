"""The demo campaign: the project's own sample products, a brief and a brand kit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageDraw, ImageFont

from adforge.brief import write_brief
from adforge.samples import write_samples

DEMO_COPY: dict[str, dict[str, str]] = {
    "bottle": {"sku": "HB-BOTTLE-01", "name": "Glacier Water Bottle", "language": "ko",
               "headline": "하루를 채우는 맑은 한 모금", "subline": "750ml 스테인리스, 24시간 보냉",
               "cta": "지금 구매하기", "style": "ocean"},
    "box": {"sku": "HB-GIFTBOX-02", "name": "Seasonal Gift Box", "language": "en",
            "headline": "Gifts worth unwrapping", "subline": "Hand-packed seasonal favourites",
            "cta": "Shop the box", "style": "warm"},
    "jar": {"sku": "HB-HONEY-03", "name": "Wildflower Honey", "language": "zh",
            "headline": "春季限定 野花蜂蜜", "subline": "天然成熟 无添加",
            "cta": "立即购买", "style": "warm"},
    "mug": {"sku": "HB-MUG-04", "name": "Morning Mug", "language": "en",
            "headline": "Mornings, made slower", "subline": "Stoneware, 350 ml, dishwasher safe",
            "cta": "Order now", "style": "studio-light"},
    "tube": {"sku": "HB-CREAM-05", "name": "Daily Hand Cream", "language": "ko",
             "headline": "손끝까지 촉촉하게", "subline": "시어버터 10% 데일리 핸드크림",
             "cta": "자세히 보기", "style": "pastel"},
    "shoe": {"sku": "HB-RUNNER-06", "name": "City Runner", "language": "en",
             "headline": "Run the city", "subline": "Featherlight knit, all-day comfort",
             "cta": "Find your size", "style": "studio-dark"},
    "can": {"sku": "HB-SODA-07", "name": "Citrus Sparkling", "language": "ko",
            "headline": "톡 쏘는 여름의 시작", "subline": "무설탕 시트러스 스파클링",
            "cta": "한정 수량 구매", "style": "forest"},
    "perfume": {"sku": "HB-SCENT-08", "name": "Evening Bloom", "language": "en",
                "headline": "An evening in bloom", "subline": "Eau de parfum, 50 ml",
                "cta": "Discover", "style": "pastel"},
}

DEMO_BRAND: dict[str, Any] = {
    "name": "Hanbit Goods",
    "tone": "warm, honest, a little playful",
    "fonts": {"headline": {"family": "Noto Sans CJK KR", "weight": "bold"},
              "body": {"family": "Noto Sans CJK KR"},
              "cta": {"family": "Noto Sans CJK KR", "weight": "bold"}},
    "colors": {"primary": "#1F3A5F", "secondary": "#F2E8DA", "accent": "#D2472A",
               "text_dark": "#16202C", "text_light": "#FFFFFF"},
    "default_style": "studio-light",
    "default_prompt": "clean studio product photography, soft natural light",
    "negative_prompt": "text, watermark, logo, clutter, people",
}


def write_demo_inputs(folder: Path, *, size: int = 1024) -> tuple[Path, Path]:
    """Render the sample products and write `brief.csv` and `brand.yaml` beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = write_samples(folder / "photos", size=size, seed=7)
    rows = []
    for photo in photos:
        copy = DEMO_COPY.get(photo.stem)
        if copy is not None:
            rows.append({**copy, "image": f"photos/{photo.name}"})
    brief = folder / "brief.csv"
    write_brief(rows, brief)
    write_logo(folder / "logo.png", DEMO_BRAND["colors"]["primary"],
               DEMO_BRAND["colors"]["accent"])
    brand = folder / "brand.yaml"
    kit = {**DEMO_BRAND, "logo": "logo.png"}
    brand.write_text(yaml.safe_dump(kit, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return brief, brand


def write_logo(path: Path, ink: str, accent: str) -> Path:
    """The demo brand's wordmark: a dot and "HANBIT", on a transparent ground."""
    font_path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    font = (ImageFont.truetype(str(font_path), 96) if font_path.is_file()
            else ImageFont.load_default(96))
    logo = Image.new("RGBA", (560, 130), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((8, 25, 88, 105), fill=accent)
    draw.text((108, 12), "HANBIT", font=font, fill=ink)
    logo = logo.crop(logo.getbbox())
    logo.save(path)
    return path
