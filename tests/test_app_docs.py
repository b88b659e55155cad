"""The studio the documents describe is the one the code builds: every menu path they write
("File › Export › Mask…") leads to a menu entry, the keys they give beside one are its
shortcuts, and every key the README's studio section names does something.

A path is matched against the real menu bar word by word: the entry it shares the most words
with must be the one it names in full, so a path that stops inside an entry's name ("File ›
New mask, deformed" for "New mask, deformed from this one") or runs past a submenu into words
of its own ("File › Export mask") is caught.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtGui import QKeySequence

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "resources").rglob("*.md"))]
TOP_MENUS = ("File", "Edit", "View", "Model", "Data", "Train", "Help")
MENU_PATH = re.compile(rf"\b(?:{'|'.join(TOP_MENUS)}) › ")
# what may follow a submenu's name in a sentence ("File › Export writes the image ...")
AFTER_A_SUBMENU = ("writes", "lists", "has", "holds", "offers")
# keys the canvas handles itself, not through an action (the polygon tool, panning)
CANVAS_KEYS = {"Enter", "Esc", "Space", "Backspace"}


def plain(text: str) -> str:
    return text.replace("&", "").replace("\u2026", "").strip()


def menu_entries(window) -> dict[str, object]:
    """Every entry of the menu bar by its path ("File › Export › Mask"): an action, or the
    string "submenu"."""
    entries: dict[str, object] = {}

    def walk(menu, path: str) -> None:
        for action in menu.actions():
            if action.isSeparator() or not action.text():
                continue
            name = f"{path} › {plain(action.text())}" if path else plain(action.text())
            if action.menu() is not None:
                entries[name] = "submenu"
                walk(action.menu(), name)
            else:
                entries[name] = action

    walk(window.menuBar(), "")
    return entries


def shared_words(mention: str, entry: str) -> int:
    """How long a start ``mention`` and ``entry`` share, ending where both end a word."""
    shared = 0
    for i, (a, b) in enumerate(zip(mention, entry)):
        if a != b:
            break
        shared = i + 1
    while shared and shared < len(entry) and (entry[shared].isalnum() or
                                               (shared < len(mention) and mention[shared].isalnum())):
        shared -= 1
    return shared


def documented_menu_paths() -> list[tuple[str, str]]:
    """(where, the words from a menu path on) for every menu path in the documents."""
    found = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in MENU_PATH.finditer(text):
            words = " ".join(text[match.start():match.start() + 120].replace("*", "").split())
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{document.relative_to(REPO)}:{line}", words))
    return found


def path_problem(words: str, entries: dict[str, object]) -> str | None:
    """Why the menu path at the start of ``words`` names no entry (None when it does)."""
    best = max(entries, key=lambda entry: (shared_words(words, entry), entry in words[:len(entry)]))
    if not words.startswith(best):
        return f"{words[:50]!r} names no menu entry (nearest: {best})"
    rest = words[len(best):].lstrip("\u2026")
    if entries[best] == "submenu" and rest[:1] == " " and rest.split()[0] not in AFTER_A_SUBMENU:
        return f"{words[:50]!r}: {best} is a submenu; name its entry"
    return None


def written_keys(words: str, entry: str) -> str | None:
    """The key a document gives right after a menu path: "… (Ctrl+Shift+I)" or "…, Ctrl+M"."""
    match = re.match(r"\u2026?\s*(?:\(|,\s*)((?:Ctrl|Shift|Alt|F\d)[\w+]*)", words[len(entry):])
    return match.group(1) if match else None


def action_keys(action) -> list[str]:
    return [key.toString(QKeySequence.SequenceFormat.PortableText) for key in action.shortcuts()]


def test_every_menu_path_in_the_documents_names_an_entry_of_the_studio_s_menus(window):
    entries = menu_entries(window)
    assert "File › Export › Mask" in entries and "Data › Export batch" in entries
    paths = documented_menu_paths()
    assert len(paths) > 10, "the menu paths in the documents were not found"
    wrong = [f"{at}: {problem}" for at, words in paths if (problem := path_problem(words, entries))]
    assert not wrong, wrong


def test_a_key_written_beside_a_menu_path_is_that_entry_s_shortcut(window):
    entries = menu_entries(window)
    wrong, checked = [], 0
    for at, words in documented_menu_paths():
        entry = next((e for e in sorted(entries, key=len, reverse=True) if words.startswith(e)), None)
        key = written_keys(words, entry) if entry else None
        if key is None or entries[entry] == "submenu":
            continue
        checked += 1
        if key not in action_keys(entries[entry]):
            wrong.append(f"{at}: {entry} is {', '.join(action_keys(entries[entry])) or 'no key'}, not {key}")
    assert checked >= 2, "no key beside a menu path was found"
    assert not wrong, wrong


STUDIO_PAGE = REPO / "docs" / "studio.md"


def studio_section() -> str:
    """What the documents say of the studio: the README's section and docs/studio.md up to its
    table of keys (checked on its own)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    page = STUDIO_PAGE.read_text(encoding="utf-8")
    return text.split("## The studio", 1)[1].split("\n## ", 1)[0] + "\n" + page.split("\n## Keys\n", 1)[0]


def test_every_key_the_readme_gives_for_the_studio_does_something(window):
    keys = {key for action in window.commands.actions.values() for key in action_keys(action)} | CANVAS_KEYS
    section = studio_section()
    written = set(re.findall(r"\b((?:Ctrl\+)?(?:Shift\+)?(?:[A-Z0-9]|F\d+))\b(?!\w)", section))
    written = {key for key in written if "+" in key or key.startswith("F") and len(key) > 1}
    written |= set(re.findall(r"`([A-Z0-9\[\]])`", section))  # `Q`, `[`, `0`
    assert {"Ctrl+M", "F1", "["} <= written, "the keys in the README were not found"
    assert not written - keys, sorted(written - keys)


def test_the_tooltips_of_the_open_and_export_entries_name_every_kind_they_take(window):
    """A tooltip that lists what an entry takes lists all of it: every layout the batch export
    writes, every kind of mask file Open mask reads, every picture Open image to trace reads,
    every kind of file the cine export's save dialog offers."""
    from engine.export.writers import WRITERS

    entries = menu_entries(window)
    layouts = {"png": "png", "hdf5": "HDF5", "nifti": "NIfTI", "nnunet": "nnU-Net"}
    export_tip = entries["Data › Export batch"].toolTip()
    assert set(layouts) == set(WRITERS) and all(word in export_tip for word in layouts.values())
    open_tip = entries["File › Open mask"].toolTip()
    for kind in ("PNG", "NIfTI", "MetaImage", "NRRD", "*.seg.nrrd", "*.itksnap"):
        assert kind in open_tip, kind
    trace_tip = entries["File › Open image to trace"].toolTip()
    for kind in ("PNG", "JPEG", "BMP", "TIFF", "NIfTI", "MHD", "NRRD", "DICOM"):
        assert kind in trace_tip, kind
    cine_tip = entries["File › Export › Cine loop"].toolTip()
    assert [name for name in cine_export_kinds() if name not in cine_tip] == []


def cine_export_kinds() -> list[str]:
    """The name of each kind of file the cine export's save dialog offers ("GIF", "DICOM")."""
    from cardigan_app.export import CINE_FILTER

    kinds = {"*.gif": "GIF", "*.mp4": "MP4", "*.nii.gz": "NIfTI", "*.h5": "HDF5", "*.dcm": "DICOM", "*": "PNG frames"}
    offered = re.findall(r"\(([^()]*)\)(?:;;|$)", CINE_FILTER)
    assert set(offered) == set(kinds), offered
    return [kinds[kind] for kind in offered]


def test_the_readme_names_every_kind_of_file_the_studio_s_cine_export_writes():
    """The README's sentence on File › Export › Cine loop… names every file type its save
    dialog offers."""
    sentence = " ".join(studio_section().split("File › Export › Cine loop", 1)[1].split(" in the background")[0].split())
    assert [name for name in cine_export_kinds() if name not in sentence] == []


# what the README's studio section says each key does, and the action that key must trigger
STUDIO_KEYS = (
    ("(`[` `]` size", {"[": "smaller", "]": "larger"}),
    ("`Q` square", {"Q": "square_brush"}),
    ("Ctrl+Z removes the last corner", {"Ctrl+Z": "undo"}),  # the undo action, taken by the polygon
    ("class keys `0`–`3`", {"0": "class_0", "3": "class_3"}),
    ("`O` toggles background only", {"O": "paint_over"}),
    ("mask opacity `D` `F`", {"D": "opacity_down", "F": "opacity_up"}),
    ("opacity (`D` and `F` step it", {"D": "opacity_down", "F": "opacity_up"}),
    ("undo/redo per stroke (Ctrl+Z, Ctrl+Shift+Z or Ctrl+Y)", {"Ctrl+Z": "undo", "Ctrl+Shift+Z": "redo",
                                                                "Ctrl+Y": "redo"}),
    ("zoom (wheel, `+` `-`", {"+": "zoom_in", "-": "zoom_out"}),
    ("scrub (`,` `.` step", {",": "previous_frame", ".": "next_frame"}),
    ("frame slider (or `,` `.`)", {",": "previous_frame", ".": "next_frame"}),
    ("Ctrl+0 fit", {"Ctrl+0": "fit"}),
    ("Ctrl+1 1:1", {"Ctrl+1": "actual"}),
    ("F1 lists every shortcut", {"F1": "shortcuts"}),
    ("Mask tools (Ctrl+M)", {"Ctrl+M": "mask_tools"}),
    ("topology check (Ctrl+Shift+T)", {"Ctrl+Shift+T": "topology"}),
    ("(`K` switches", {"K": "key_frame"}),
    ("then `K` and the slider ES's", {"K": "key_frame"}),
    ("Open image to trace** (Ctrl+Shift+I)", {"Ctrl+Shift+I": "trace"}),
    ("Auto** (`A`)", {"A": "contrast_auto"}),
    ("Reset (Shift+A)", {"Shift+A": "contrast_reset"}),
    ("`A` auto, Shift+A reset", {"A": "contrast_auto", "Shift+A": "contrast_reset"}),
    ("Check topology (Ctrl+Shift+T)", {"Ctrl+Shift+T": "topology"}),
    ("Keyboard shortcuts, F1", {"F1": "shortcuts"}),
    ("Open model file, Ctrl+L", {"Ctrl+L": "open_model"}),
    ("Open model folder, Ctrl+Shift+L", {"Ctrl+Shift+L": "open_model_folder"}),
)


def test_every_key_the_readme_gives_for_the_studio_is_the_shortcut_of_what_it_says(window):
    """Each key the studio section (and docs/studio.md) writes beside what it does ("`Q` square",
    "Reset (Shift+A)"), wherever it writes it, triggers that action, and no key is written
    there that this table does not hold to an action (the canvas's own Enter, Esc and Space
    aside)."""
    actions = window.commands.actions
    section = " ".join(studio_section().split())
    wrong, covered = [], []
    for phrase, keys in STUDIO_KEYS:
        found = [match.start() for match in re.finditer(re.escape(phrase), section)]
        if not found:
            wrong.append(f"the studio section no longer says {phrase!r}")
            continue
        covered += [range(at, at + len(phrase)) for at in found]
        wrong += [f"{phrase!r}: {key} is {', '.join(action_keys(actions[name])) or 'no key'} of {name}"
                  for key, name in keys.items() if key not in action_keys(actions[name])]
    written = re.finditer(r"(?<![\w+])((?:Ctrl\+)?(?:Shift\+)?(?:F\d+|[A-Z0-9]))(?![\w+])|`([A-Z0-9\[\]])`", section)
    for match in written:
        key = match.group(1) or match.group(2)
        if match.group(1) and "+" not in key and not key.startswith("F"):
            continue  # a bare capital or digit in prose ("ED", "1:1") is not a key unless in `code`
        if not any(match.start() in span for span in covered):
            wrong.append(f"a key {key!r} the table above does not check: ...{section[match.start() - 40:match.end() + 20]}...")
    assert not wrong, wrong


def studio_page_table(heading: str) -> list[list[str]]:
    """The cells of each row of the table under ``heading`` in docs/studio.md's Keys section."""
    keys = STUDIO_PAGE.read_text(encoding="utf-8").split("\n## Keys\n", 1)[1]
    table = keys.split(heading, 1)[1].split("\n\n", 2)[1]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.splitlines()]
    return [row for row in rows[2:] if row]  # the header and its rule left out


def test_the_studio_page_lists_every_menu_key_as_the_menus_have_it(window):
    """docs/studio.md's table of keys names each entry with its keys exactly as the menus give
    them, and leaves out no action that has a key."""
    entries = menu_entries(window)
    rows = studio_page_table("Every menu entry with a key")
    assert len(rows) > 30, "the table of menu keys was not found"
    wrong, listed = [], set()
    for path, keys in rows:
        action = entries.get(path)
        if action is None or action == "submenu":
            wrong.append(f"{path}: no such menu entry")
            continue
        listed.add(id(action))
        if keys.split(", ") != action_keys(action):
            wrong.append(f"{path}: {', '.join(action_keys(action)) or 'no key'}, not {keys}")
    wrong += [f"{name} ({', '.join(action_keys(action))}) is not listed"
              for name, action in window.commands.actions.items()
              if action_keys(action) and id(action) not in listed]
    assert not wrong, wrong


def test_the_shortcuts_list_groups_each_key_under_the_menu_that_holds_its_entry(window):
    """F1 grouped the tools and classes under "Tools" and "Classes", headings no menu has: the
    menus hold them under Edit (the classes under Edit › Class). Each group is the menu, or the
    submenu, its entries are found in."""
    from cardigan_app.dialogs.shortcuts import shortcut_rows

    paths: dict[int, list[str]] = {}  # an entry may be in two menus (Browse prepared dataset)
    for path, action in menu_entries(window).items():
        paths.setdefault(id(action), []).append(path)
    wrong = []
    for section, action in window.commands.sections:
        found = paths.get(id(action), [])
        if shortcut_rows([(section, action)]) and not any(path.startswith(f"{section} \u203a ") for path in found):
            wrong.append(f"{plain(action.text())} under {section}, in the menus at {found}")
    assert not wrong, wrong
    assert ("Edit \u203a Class", "2 Myocardium", "2") in shortcut_rows(window.commands.sections)


def test_the_studio_page_lists_the_canvas_gestures_the_shortcuts_dialog_lists():
    """docs/studio.md's table of gestures is Help › Keyboard shortcuts' own list."""
    from cardigan_app.dialogs.shortcuts import CANVAS_GESTURES

    assert [tuple(row) for row in studio_page_table("On the canvas and the image panes")] == list(CANVAS_GESTURES)


def studio_numbers() -> tuple[tuple[str, float], ...]:
    """(a pattern whose number the studio's documents give, the value the code uses)."""
    from cardigan_app.autosave import INTERVAL_MS
    from cardigan_app.contrast import AUTO_PERCENTILES
    from cardigan_app.crash_recovery import AFTER_EDIT_MS
    from cardigan_app.file_reading import READ_AT_ONCE_BYTES
    from cardigan_app.panels.anatomy_sliders import KEY_FRAME_GAP, STEPS
    from cardigan_app.window_chrome import OPACITY_STEP
    from engine.cine.timing import lowest_fps

    return (
        (r"autosaved (\d+) s after an edit", AFTER_EDIT_MS / 1000),
        (r"after an edit \(and every (\d+) s\)", INTERVAL_MS / 1000),
        (r"a file over (\d+) MB", READ_AT_ONCE_BYTES / 1e6),
        (r"stretches its (\d+)–\d+ % grey values", AUTO_PERCENTILES[0]),
        (r"stretches its \d+–(\d+) % grey values", AUTO_PERCENTILES[1]),
        (r"`D` and `F` step it down and up by (\d+) %", OPACITY_STEP * 100),
        (r"mask opacity `D` `F` \((\d+) % down, up\)", OPACITY_STEP * 100),
        (r"at least (\d+) % of the cycle apart", KEY_FRAME_GAP / STEPS * 100),
        (r"two frames a beat \(bpm / (\d+)\)", 60 / lowest_fps(60)),
    )


def test_every_number_the_studio_s_documents_give_is_the_code_s():
    """The delays, sizes and steps the README's studio section and docs/studio.md give (the
    autosave's delays, the size read in the background, Auto contrast's percentiles, the
    opacity step, how far apart the key frames stay, the lowest frame rate) are the values the
    studio uses."""
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split() + STUDIO_PAGE.read_text(encoding="utf-8").split())
    wrong = []
    for pattern, value in studio_numbers():
        said = [float(number) for number in re.findall(pattern, text)]
        if not said:
            wrong.append(f"the documents no longer say {pattern!r}")
        wrong += [f"{pattern!r}: {number:g} written, {value:g} in the code" for number in said
                  if abs(number - value) > 1e-9]
    assert not wrong, wrong
