"""Pictures of the detections: pixel checks on generated images, captions, error and placeholder pictures."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from customlabels.results.model import Prediction, ResultsError
from customlabels.visualize import pictures, result_images

pytestmark = pytest.mark.unit


GREY = (128, 128, 128)


RED, BLUE = (255, 0, 0), (0, 0, 255)


COLOURS = {"bee": RED, "flower": BLUE, "sunny": (0, 160, 0)}


def grey(width=400, height=300):
    return Image.new("RGB", (width, height), GREY)


def test_a_box_lands_where_its_geometry_says():
    # Left .25, Top .5, Width .5, Height .25 of 400 x 300 -> x 100..300, y 150..225; outline 2 px inside.
    picture = pictures.draw(grey(), [Prediction("bee", 97.5, (0.25, 0.5, 0.5, 0.25))], COLOURS)
    assert picture.size == (400, 300)
    for x, y in [(100, 190), (101, 190), (299, 190), (300, 190), (200, 225), (250, 224)]:
        assert picture.getpixel((x, y)) == RED, (x, y)
    for x, y in [(98, 190), (103, 190), (200, 190), (297, 200), (302, 190), (200, 228)]:
        assert picture.getpixel((x, y)) == GREY, (x, y)
    tab = [picture.getpixel((x, y)) for x in range(100, 200) for y in range(120, 150)]
    assert tab.count(RED) > 200, "the label tab sits just above the box, in the label's colour"


def test_the_tab_goes_inside_a_box_at_the_top_edge_and_low_confidence_is_not_drawn():
    predictions = [Prediction("flower", 80.0, (0.0, 0.0, 0.5, 0.5)), Prediction("bee", 40.0, (0.6, 0.6, 0.2, 0.2))]
    picture = pictures.draw(grey(), predictions, COLOURS, min_confidence=50)
    assert picture.getpixel((100, 0)) == BLUE and picture.getpixel((0, 100)) == BLUE
    inside_tab = [picture.getpixel((x, y)) for x in range(2, 60) for y in range(4, 24)]
    assert inside_tab.count(BLUE) > 100
    assert picture.getpixel((240, 200)) == GREY, "the 40% bee is below --min-confidence 50"


def test_image_level_labels_become_a_caption_under_the_picture():
    predictions = [Prediction("sunny", 88.0), Prediction("flower", 60.0)]
    picture = pictures.draw(grey(), predictions, COLOURS)
    assert picture.width == 400 and picture.height > 300
    caption = [picture.getpixel((x, y)) for x in range(400) for y in range(300, picture.height)]
    assert caption.count(COLOURS["sunny"]) > 100 and caption.count(BLUE) > 100
    assert picture.getpixel((399, picture.height - 1)) == pictures.CAPTION_BACKGROUND
    assert all(picture.getpixel((x, y)) == GREY for x in (0, 200, 399) for y in (0, 150, 299)), "image untouched"
    first_sunny = min(
        x for x in range(400) for y in range(300, picture.height) if picture.getpixel((x, y)) == COLOURS["sunny"]
    )
    first_flower = min(x for x in range(400) for y in range(300, picture.height) if picture.getpixel((x, y)) == BLUE)
    assert first_sunny < first_flower, "most confident first"


def test_an_error_is_a_red_banner_and_an_unreadable_image_a_placeholder(tmp_path):
    banner = (pictures.ERROR_RED, "InvalidImageFormatException: Request has unsupported image format")
    picture = pictures.draw(grey(), [], COLOURS, banner=banner)
    assert picture.height > 300
    assert picture.getpixel((395, picture.height - 2)) == pictures.ERROR_RED

    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "notes.jpg").write_text("not a picture")
    item = result_images.ResultImage(
        "notes.jpg",
        tmp_path / "images" / "notes.jpg",
        {
            "Image": {"Key": "test_images/notes.jpg"},
            "CustomLabels": [],
            "Error": {"Code": "InvalidImageFormatException", "Message": "Request has unsupported image format"},
        },
    )
    rendered = pictures.render(item, COLOURS)
    drawn = rendered.picture
    assert rendered.format == "PNG" and drawn.size[0] == pictures.PLACEHOLDER_SIZE[0]
    assert rendered.plain.size == pictures.PLACEHOLDER_SIZE
    assert drawn.getpixel((5, 5)) == pictures.PLACEHOLDER_BACKGROUND
    assert drawn.getpixel((drawn.width - 3, drawn.height - 2)) == pictures.ERROR_RED
    assert any(drawn.getpixel((x, 35)) == (255, 255, 255) for x in range(24, 300)), "the reason is written on it"


def test_render_keeps_jpeg_as_jpeg_and_marks_images_without_a_result(tmp_path):
    grey(200, 100).save(tmp_path / "a.jpg")
    grey(200, 100).save(tmp_path / "b.png")
    with_result = result_images.ResultImage(
        "a.jpg",
        tmp_path / "a.jpg",
        {
            "Image": {"Key": "test_images/a.jpg"},
            "CustomLabels": [
                {
                    "Name": "bee",
                    "Confidence": 90.0,
                    "Geometry": {"BoundingBox": {"Left": 0.1, "Top": 0.1, "Width": 0.5, "Height": 0.5}},
                }
            ],
        },
    )
    rendered = pictures.render(with_result, COLOURS)
    assert (rendered.format, rendered.picture.size) == ("JPEG", (200, 100))
    assert rendered.picture.getpixel((20, 30)) == RED and rendered.plain.getpixel((20, 30)) == GREY
    rendered = pictures.render(result_images.ResultImage("b.png", tmp_path / "b.png", None), COLOURS)
    pending = rendered.picture
    assert rendered.format == "PNG" and pending.height > 100
    assert pending.getpixel((199, pending.height - 1)) == pictures.NOTICE_AMBER


def test_collect_pairs_results_with_images_by_key_and_lists_those_without(tmp_path):
    images, results = tmp_path / "images", tmp_path / "results"
    (images / "meadow").mkdir(parents=True)
    for name in ("meadow/a b.jpg", "c.png", "waiting.jpg"):
        grey(100, 100).save(images / name)
    (images / "README.txt").write_text("not an image, never uploaded as one")
    (results / "test_images" / "meadow").mkdir(parents=True)
    for key in ("test_images/meadow/a b.jpg", "test_images/c.png", "test_images/gone.jpg"):
        (results / f"{key}.json").write_text(json.dumps({"Image": {"Key": key}, "CustomLabels": []}))
    (results / "summary.json").write_text(json.dumps({"images": []}))
    items = result_images.collect(results, images)
    assert [(i.name, i.image_path is not None, i.document is not None) for i in items] == [
        ("c.png", True, True),
        ("meadow/a b.jpg", True, True),
        ("test_images/gone.jpg", False, True),
        ("waiting.jpg", True, False),
    ]
    (results / "broken.json").write_text("{")
    with pytest.raises(ResultsError, match=r"broken\.json: not JSON"):
        result_images.collect(results, images)


def test_label_colours_are_distinct_and_stable():
    labels = [f"label-{n}" for n in range(20)]
    colours = pictures.label_colours(reversed(labels))
    assert len(set(colours.values())) == 20
    assert colours == pictures.label_colours(labels)
    assert pictures.FONT_PATH.is_file() and "matplotlib" in str(pictures.FONT_PATH)


# --- halo, tabs that never overlap, tiny images, ground truth ----------------------------------------------------
WHITE, BLACK, LIGHT = (255, 255, 255), (0, 0, 0), (255, 230, 120)


def test_a_dark_box_has_a_white_halo_and_a_light_box_a_black_one_so_either_shows_on_any_photo():
    dark = Image.new("RGB", (400, 300), (5, 5, 5))
    picture = pictures.draw(dark, [Prediction("bee", 97.5, (0.25, 0.5, 0.5, 0.25))], COLOURS)
    # The outline covers x 100..101 (line 2); the halo one pixel on each side of it: x 99 and x 102.
    assert [picture.getpixel((x, 190)) for x in (98, 99, 100, 101, 102, 103)] == [
        (5, 5, 5),
        WHITE,
        RED,
        RED,
        WHITE,
        (5, 5, 5),
    ]
    light = Image.new("RGB", (400, 300), (250, 250, 250))
    picture = pictures.draw(light, [Prediction("sunny", 90.0, (0.25, 0.5, 0.5, 0.25))], {"sunny": LIGHT})
    assert [picture.getpixel((x, 190)) for x in (99, 100, 101, 102)] == [BLACK, LIGHT, LIGHT, BLACK]


def test_tabs_of_boxes_on_top_of_one_another_are_all_drawn_apart():
    predictions = [Prediction("bee", 90.0 - n, (0.3, 0.3, 0.3, 0.3)) for n in range(4)]
    picture = pictures.draw(grey(), predictions, COLOURS)
    typeface = pictures.font(12)
    sizes = [pictures.tab_size(f"bee {p.confidence:.1f}%", typeface) for p in predictions]
    corners = pictures.place_tabs([(120, 90, 240, 180)] * 4, sizes, (400, 300))
    assert None not in corners and len(set(corners)) == 4
    for (x, y), (_width, height) in zip(corners, sizes, strict=True):
        # Each tab's left column is its halo (white around red), its inside the label's colour.
        assert picture.getpixel((round(x), round(y + height / 2))) == WHITE
        assert picture.getpixel((round(x) + 1, round(y) + 1)) == RED
    assert corners[0] == (120, 90 - sizes[0][1]), "the most confident keeps the place above its box"


rectangles = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)).map(
    lambda r: (min(r[0], r[2]) * 400, min(r[1], r[3]) * 300, max(r[0], r[2]) * 400, max(r[1], r[3]) * 300)
)


@settings(max_examples=150)
@given(
    st.lists(st.tuples(rectangles, st.floats(1, 450), st.floats(1, 60)), max_size=30),
    st.tuples(st.integers(20, 400), st.integers(20, 300)),
)
def test_placed_tabs_never_overlap_and_never_leave_the_picture(tabs, bounds):
    corners = pictures.place_tabs([rect for rect, _, _ in tabs], [(w, h) for _, w, h in tabs], bounds)
    assert len(corners) == len(tabs)
    placed = []
    for (_, width, height), corner in zip(tabs, corners, strict=True):
        if corner is None:
            continue
        x, y = corner
        assert x >= 0 and y >= 0 and x + width <= bounds[0] + 1e-9 and y + height <= bounds[1] + 1e-9
        placed.append((x, y, x + width, y + height))
    for index, a in enumerate(placed):
        assert not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3] for b in placed[index + 1 :])
    if tabs and tabs[0][1] <= bounds[0] and tabs[0][2] <= bounds[1]:
        assert corners[0] is not None, "the first tab always finds a place"


def test_a_tab_with_no_free_place_goes_to_the_caption_under_the_picture():
    tiny = Image.new("RGB", (64, 64), GREY)
    picture = pictures.draw(tiny, [Prediction("bee", 90.0, (0.1, 0.1, 0.5, 0.5))], COLOURS)
    assert picture.width == pictures.MIN_CAPTION_WIDTH and picture.height > 64
    caption = [picture.getpixel((x, y)) for x in range(picture.width) for y in range(64, picture.height)]
    assert caption.count(RED) > 100, "'bee 90.0%' is wider than the image: its tab is in the caption"


def test_an_error_under_a_tiny_image_wraps_by_words_not_letter_by_letter():
    message = "InvalidParameterException: the image is 64 x 64 pixels"
    picture = pictures.draw(Image.new("RGB", (64, 64), GREY), [], COLOURS, banner=(pictures.ERROR_RED, message))
    row_height = round(pictures.font(12).size * 1.8)
    assert picture.width == pictures.MIN_CAPTION_WIDTH
    assert (picture.height - 64) // row_height == 2, "two rows of words: the exception name is never split"
    assert picture.getpixel((pictures.MIN_CAPTION_WIDTH - 2, picture.height - 2)) == pictures.ERROR_RED


def test_ground_truth_is_dashed_black_and_white_and_a_missed_box_gets_a_tab():
    truth = [
        pictures.TruthBox("flower", (0.5, 0.1, 0.4, 0.4), matched_confidence=None),
        pictures.TruthBox("bee", (0.05, 0.5, 0.3, 0.3), matched_confidence=95.0),
    ]
    picture = pictures.draw(grey(), [], COLOURS, truth=truth)
    top_edge = [picture.getpixel((x, 30)) for x in range(200, 360)]
    assert WHITE in top_edge and BLACK in top_edge and set(top_edge) <= {WHITE, BLACK, BLUE}
    assert BLUE in [picture.getpixel((x, y)) for x in range(200, 300) for y in range(5, 30)], "the 'missed' tab"
    bee_edge = [picture.getpixel((x, 150)) for x in range(20, 140)]
    assert set(bee_edge) <= {WHITE, BLACK} and RED not in [
        picture.getpixel((x, y)) for x in range(20, 140) for y in range(120, 150)
    ], "found at 95%: no tab"
    found_later = pictures.draw(grey(), [], COLOURS, truth=truth, min_confidence=96)
    assert RED in [found_later.getpixel((x, y)) for x in range(20, 140) for y in range(120, 170)], (
        "above the confidence it was found at, the bee is missed too"
    )


def test_verdicts_mark_the_tabs():
    predictions = [Prediction("bee", 97.0, (0.1, 0.3, 0.3, 0.3)), Prediction("bee", 96.0, (0.6, 0.3, 0.3, 0.3))]
    marked = pictures.draw(grey(), predictions, COLOURS, verdicts={0: True, 1: False})
    plain = pictures.draw(grey(), predictions, COLOURS)
    assert marked.tobytes() != plain.tobytes()
    assert pictures.VERDICT_MARK == {True: "✓", False: "✗"}


def count(picture, colour):
    return {found: number for number, found in picture.getcolors(1 << 20)}.get(colour, 0)


def test_a_missed_image_level_label_is_a_chip_in_the_caption():
    found = pictures.draw(
        grey(), [Prediction("sunny", 88.0)], COLOURS, verdicts={0: True}, truth_labels={"sunny": 88.0}
    )
    missed = pictures.draw(
        grey(), [Prediction("sunny", 88.0)], COLOURS, verdicts={0: True}, truth_labels={"sunny": 88.0, "flower": None}
    )
    assert found.height == missed.height and count(found, BLUE) == 0
    assert count(missed, BLUE) > 100, "a 'missed flower' chip in flower's colour"
    above = pictures.draw(grey(), [Prediction("sunny", 88.0)], COLOURS, min_confidence=90, truth_labels={"sunny": 88.0})
    assert count(above, COLOURS["sunny"]) > 100, "above the confidence it is found at, sunny is missed"


def test_a_photo_stored_sideways_is_drawn_upright_so_its_boxes_land_where_the_results_mean(tmp_path):
    """A camera stores a portrait photo as landscape pixels with EXIF Orientation 6 (turn 90 degrees clockwise to
    view). Results answer for the upright image, so the picture must be upright too, or every box lands elsewhere."""
    stored = Image.new("RGB", (400, 300), GREY)
    stored.paste(RED, (0, 0, 40, 30))  # the stored top-left corner: the viewed top-right corner
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(tmp_path / "sideways.jpg", exif=exif, quality=95)
    image, image_format = pictures.open_image(
        result_images.ResultImage("sideways.jpg", tmp_path / "sideways.jpg", None)
    )
    assert (image.size, image_format) == ((300, 400), "JPEG")
    red, green, blue = image.getpixel((290, 10))
    assert red > 200 and green < 60 and blue < 60, "the stored top-left corner is viewed at the top right"
