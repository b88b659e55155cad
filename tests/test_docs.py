"""What the documents tell a user exists does exist.

README.md, docs/*.md and the cards under resources/ name commands, options, scripts, files,
sections of each other and the studio's menu entries. Nothing here runs a command: command
lines are checked against the command line's own parser, script options against the
script's source, file names against the repository, section references against the headings
they name and menu paths against the menus the studio builds.
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "resources").rglob("*.md"))]

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND = re.compile(r"(?:\bcardigan|\bpython3? -m engine|(?<!\S)-m engine)\s+([a-z]+)\b")
SCRIPT = re.compile(r"\b((?:benchmarks|scripts)/\w+\.py)\b")
# a choice list as written after an option: `--format png|hdf5` (in a table `png\|hdf5`)
CHOICES = re.compile(r"(--[a-z][a-z0-9-]*)[ =]([\w.]+(?:\\?\|[\w.]+)+)")


def where(document: Path, line: int) -> str:
    return f"{document.relative_to(REPO)}:{line}"


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def code_texts(document: Path) -> list[tuple[int, str]]:
    """Every piece of code in a document with its line: fenced and indented blocks line by
    line, inline code spans whole (a span broken over lines joined with spaces)."""
    text = document.read_text(encoding="utf-8")
    pieces: list[tuple[int, str]] = []
    fences = list(re.finditer(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M))
    for fence in fences:
        first = line_of(text, fence.start(1))
        pieces += [(first + i, line) for i, line in enumerate(fence.group(1).split("\n"))]
    prose = re.sub(r"^```.*?^```", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S | re.M)
    for block in re.finditer(r"(?:^\n)((?: {4}[^\n]*\n)+)", prose, re.M):
        first = line_of(prose, block.start(1))
        pieces += [(first + i, line.strip()) for i, line in enumerate(block.group(1).splitlines())]
    for span in re.finditer(r"`([^`]+)`", prose):
        pieces.append((line_of(prose, span.start()), span.group(1).replace("\n", " ")))
    return pieces


@lru_cache(maxsize=1)
def command_options() -> dict[str, dict[str, tuple[str, ...] | None]]:
    """command -> {option string: its choices (None when free)}, from the real parser."""
    from engine.cli.main import build_parser

    parser = build_parser()
    commands = next(action.choices for action in parser._actions if isinstance(action.choices, dict))
    table = {}
    for name, sub in commands.items():
        table[name] = {option: (tuple(str(c) for c in action.choices) if action.choices else None)
                       for action in sub._actions for option in action.option_strings}
    return table


def documented_command_lines() -> list[tuple[str, str, str]]:
    """(where, command, the rest of the line) for every command line in the documents: code
    that starts ``cardigan COMMAND``, ``python -m engine COMMAND`` or (in a span) a bare
    ``COMMAND --option``, and every row of a table whose first cell is such a command (the
    options its other cells name are that command's)."""
    names = "|".join(command_options())
    bare = re.compile(rf"^({names})\s+(?=--)")
    found = []
    for document in DOCUMENTS:
        for line, code in code_texts(document):
            for match in COMMAND.finditer(code):
                found.append((where(document, line), match.group(1), cut_at_next_command(code[match.end():])))
            match = bare.match(code)
            if match:
                found.append((where(document, line), match.group(1), code[match.end():]))
        for number, row in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
            match = re.match(rf"\|\s*`cardigan ({names})\b", row)
            if match:
                found.append((where(document, number), match.group(1), row[match.end():]))
    return found


def cut_at_next_command(rest: str) -> str:
    """A code line's words up to the next command or shell separator (``a && cardigan b``)."""
    return re.split(r"&&|;|\|\||(?<!\\)\|(?!\w)|\bcardigan\s", rest)[0]


def test_the_documents_name_commands_the_command_line_has():
    lines = documented_command_lines()
    assert len(lines) > 50, "the command lines in the documents were not found"
    unknown = [f"{at}: cardigan {command}" for at, command, _ in lines if command not in command_options()]
    assert not unknown, unknown


def test_every_option_a_documented_command_line_uses_is_one_the_command_takes():
    wrong = []
    for at, command, rest in documented_command_lines():
        options = command_options().get(command, {})
        wrong += [f"{at}: cardigan {command} has no {option}" for option in OPTION.findall(rest)
                  if option not in options]
    assert not wrong, wrong


def test_every_documented_choice_is_one_the_option_takes():
    wrong = []
    for at, command, rest in documented_command_lines():
        options = command_options().get(command, {})
        for option, written in CHOICES.findall(rest):
            allowed = options.get(option)
            if allowed is None:
                continue
            wrong += [f"{at}: cardigan {command} {option} takes no {value!r} (only {', '.join(allowed)})"
                      for value in written.replace("\\|", "|").split("|") if value not in allowed]
    assert not wrong, wrong


def test_every_option_a_documented_script_line_uses_is_one_the_script_defines():
    wrong, seen = [], 0
    for document in DOCUMENTS:
        for line, code in code_texts(document):
            for match in SCRIPT.finditer(code):
                script = REPO / match.group(1)
                if not script.is_file():
                    wrong.append(f"{where(document, line)}: no {match.group(1)}")
                    continue
                seen += 1
                source = script.read_text(encoding="utf-8")
                rest = cut_at_next_command(code[match.end():])
                rest = re.split(r"(?:benchmarks|scripts)/\w+\.py", rest)[0]
                rest = re.sub(r'"[^"]*"', "", rest)  # a quoted value (--baseline-flags "--preset lite")
                wrong += [f"{where(document, line)}: {match.group(1)} has no {option}"
                          for option in OPTION.findall(rest) if f'"{option}"' not in source]
    assert seen > 10, "the script command lines in the documents were not found"
    assert not wrong, wrong


def test_the_readme_names_every_system_package_the_window_needs():
    """The packages the launcher names when Qt cannot open a window are the ones the README's
    set-up tells a Linux user to install (for the tests, or for the window on X11)."""
    from cardigan_app.launcher import QT_SYSTEM_PACKAGES

    setup = (REPO / "README.md").read_text(encoding="utf-8").split("## Set up", 1)[1].split("\n## ", 1)[0]
    missing = [package for package in QT_SYSTEM_PACKAGES.split()
               if not re.search(rf"(?<![\w.-]){re.escape(package)}(?![\w.-])", setup)]
    assert not missing, missing


# -- files, links and sections -------------------------------------------------------------
REPO_PATH = re.compile(r"(?<![\w/.~$-])((?:engine|scripts|benchmarks|tests|cardigan_app|resources|docs)/[\w/.-]*\w)"
                       r"(?:::(\w+))?")


def defines(source_file: Path, name: str) -> bool:
    """Whether a Python file defines ``name`` at its top (a function, a class, a constant)."""
    tree = ast.parse(source_file.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def written_by_a_script(path: str) -> bool:
    """A report a benchmark writes (``benchmarks/results/x.json``) before anyone has run it."""
    name = Path(path).name
    return path.startswith("benchmarks/results/") and any(
        f'"{name}"' in script.read_text(encoding="utf-8") for script in (REPO / "benchmarks").glob("*.py"))


def repo_path_problem(path: str, test_name: str | None) -> str | None:
    """Why a repository path a document names does not resolve (None when it does). A path
    may name a module's function (``engine/cine/steady.hold_far_field``) or a test
    (``tests/test_x.py::test_y``)."""
    target = REPO / path
    if target.exists():
        if test_name and not defines(target, test_name):
            return f"{path} has no {test_name}"
        return None
    module, _, name = path.rpartition(".")
    if module and (REPO / f"{module}.py").is_file():
        return None if defines(REPO / f"{module}.py", name) else f"{module}.py has no {name}"
    if written_by_a_script(path):
        return None
    return f"no {path}"


def test_every_repository_path_the_documents_name_exists():
    wrong = []
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in REPO_PATH.finditer(text):
            problem = repo_path_problem(match.group(1), match.group(2))
            if problem:
                wrong.append(f"{where(document, line_of(text, match.start()))}: {problem}")
    assert not wrong, wrong


def test_every_relative_link_resolves():
    wrong, links = [], 0
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in re.finditer(r"\]\(([^)\s]+)\)", text):
            target = match.group(1)
            if re.match(r"[a-z]+:|#", target):
                continue
            links += 1
            if not (document.parent / target.split("#")[0]).exists():
                wrong.append(f"{where(document, line_of(text, match.start()))}: {target}")
    assert links > 5, "the links in the documents were not found"
    assert not wrong, wrong


def section_leads(document: Path) -> list[str]:
    """What a section reference may name in a document: its headings and the bold words that
    open a paragraph (``**Cine.** A 32-frame loop ...``)."""
    text = document.read_text(encoding="utf-8")
    return (re.findall(r"^#+\s+(.+)$", text, re.M)
            + re.findall(r"^\*\*([^*]+)\*\*", text, re.M))


def names_section(reference: str, lead: str) -> bool:
    """Whether the words after a ``›`` name a section with this lead: the reference goes on
    past the section's name (``README › Training has the commands``) or names it in short
    (``› The training pairs`` for "The training pairs: what the augmentation did"), perhaps
    in quotes."""
    lead = re.split(r"[:,.]", lead)[0].strip()
    reference = reference.lstrip('"\u201c')
    named = re.split(r"[:,.;()`\"\u201d]", reference)[0].strip()
    return reference.startswith(lead) or (len(named) > 3 and lead.startswith(named))


def test_every_section_reference_names_a_heading_of_that_document():
    """``docs/realism.md › A read by eye`` and ``README › Training`` point at a heading (or a
    paragraph's bold lead) of that document."""
    reference = re.compile(r"(README|[\w/]+\.md)`? › ([^\n]+(?:\n[^\n]+)?)")
    wrong, seen = [], 0
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for match in reference.finditer(text):
            name, words = match.group(1), " ".join(match.group(2).split())
            target = REPO / ("README.md" if name == "README" else name)
            if not target.is_file():
                target = document.parent / name
            seen += 1
            if not target.is_file():
                wrong.append(f"{where(document, line_of(text, match.start()))}: no {name}")
            elif not any(names_section(words, lead) for lead in section_leads(target)):
                wrong.append(f"{where(document, line_of(text, match.start()))}: {name} has no section "
                             f"named in {words[:40]!r}")
    assert seen > 5, "the section references in the documents were not found"
    assert not wrong, wrong


def test_the_readme_says_an_export_is_a_folder_and_which_output_names_it_refuses():
    """Every suffix export refuses in an output folder's name (those phantom and prepare
    refuse) is named in README's export section, beside what each layout writes inside the folder."""
    from engine.data.staging import FILE_SUFFIXES
    from engine.export import EXPORT_FORMATS
    from engine.export.writers import HDF5_NAME

    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Export and evaluation\n", 1)[1].split("\n## ", 1)[0]
    assert "always a folder" in section and f"`{HDF5_NAME}`" in section
    assert [s for s in FILE_SUFFIXES if f"`{s}`" not in section] == []
    assert all(f"`{fmt}` " in section for fmt in EXPORT_FORMATS)


def test_the_readmes_preset_table_gives_each_presets_own_values():
    """Each figure the README's preset table names (widths, batch, epochs, noise channels,
    deformed share, discriminators) is the preset's value in engine/training/config.py, and
    a precision is named only where a preset sets one of its own."""
    from engine.training.config import resolve_config

    text = (REPO / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(seed|lite|quality)` \| (.*) \|$", text, re.M))
    assert set(rows) == {"seed", "lite", "quality"}
    for preset, row in rows.items():
        config = resolve_config(preset)
        said = {
            "ngf": [int(n) for n in re.findall(r"\bngf (\d+)", row)],
            "ndf": [int(n) for n in re.findall(r"\bndf (\d+)", row)],
            "batch_size": [int(n) for n in re.findall(r"\bbatch (\d+)", row)],
            "noise_nc": [int(n) for n in re.findall(r"(\d+) noise channels", row)],
            "deform": [int(n) / 100 for n in re.findall(r"(\d+) % deformed", row)],
        }
        for field, values in said.items():
            assert values in ([], [getattr(config, field)]), (preset, field, values)
        assert re.findall(r"(\d+) \+ (\d+) epochs", row) == [(str(config.niter), str(config.niter_decay))], preset
        assert re.findall(r"(\d+) discriminators × (\d+) layers", row) in (
            [], [(str(config.num_d), str(config.n_layers_d))]), preset
        assert ("bf16" in row or "fp16" in row) == (config.amp in ("bf16", "fp16")), preset


def test_the_readme_gives_the_border_jitter_in_pixels_of_a_256_pixel_mask_as_the_commands_take_it():
    """``--border-jitter`` is in pixels of a 256-pixel mask, scaled with the mask (not pixels of
    whatever mask is given): the README says so, and its worked example is what the code does."""
    from engine.data.border_jitter import REFERENCE_SIDE, scaled_jitter

    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert text.count(f"pixels of a {REFERENCE_SIDE}-pixel mask") >= 2
    given, side, moved = re.search(r"(\d+) px moves a (\d+)-pixel mask's borders by ([\d.]+) px", text).groups()
    assert scaled_jitter(float(given), (int(side), int(side))) == float(moved)
    assert "in pixels of the mask" not in text and "for CAMUS-like 256-pixel masks" not in text


def test_the_readme_says_how_often_a_command_writing_to_a_log_tells_how_far_it_is():
    """Commands write a progress line every LOG_INTERVAL_S seconds to a log or a pipe; a
    training writes one with its losses at every logged step (--log-every) instead."""
    import io

    from engine.cli.terminal import LOG_INTERVAL_S
    from engine.cli.train_view import TerminalTrainView
    from engine.training.events import Scalars, Started

    intro = " ".join((REPO / "README.md").read_text(encoding="utf-8")
                     .split("## Command line", 1)[1].split("\n| command", 1)[0].split())
    assert f"every {LOG_INTERVAL_S:g} s" in intro
    assert "(`train`: a line with its losses every `--log-every` iterations)" in intro
    assert "--log-every" in command_options()["train"]
    log = io.StringIO()  # not a terminal
    view = TerminalTrainView(log)
    view(Started("RUN", 20, 10, 0, "cpu", {}))
    view(Scalars(10, 1, {"Loss/G_GAN": 0.5}))
    view(Scalars(20, 2, {"Loss/G_GAN": 0.25}))
    assert [line.split()[:2] for line in log.getvalue().splitlines()[1:]] == [["iter", "10"], ["iter", "20"]]


def test_the_readmes_layout_names_every_format_export_writes():
    """The Layout section's line on engine/export/ names each layout export writes."""
    from engine.export import EXPORT_FORMATS

    names = {"png": "png", "hdf5": "HDF5", "nifti": "NIfTI", "nnunet": "nnU-Net"}
    assert set(names) == set(EXPORT_FORMATS)
    layout = (REPO / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    line = next(line for line in layout.splitlines() if line.strip().startswith("export/"))
    assert [fmt for fmt in EXPORT_FORMATS if names[fmt] not in line] == []


def test_a_command_a_picture_s_caption_gives_runs_as_written(capsys):
    """The command under a picture, which made it, is whole: its required options given and
    every value one the command takes (it is parsed by the command line's own parser)."""
    import shlex

    from engine.cli.main import build_parser, parse_arguments

    captions = [(document, caption) for document in DOCUMENTS
                for caption in re.findall(r"^\s*!\[[^\]]*\]\([^)]*\)\s*\n\s*\*(.+?)\*\s*$",
                                          document.read_text(encoding="utf-8"), re.S | re.M)]
    commands = [(document, " ".join(span.split())) for document, caption in captions
                for span in re.findall(r"`(cardigan [^`]+)`", caption)]
    assert commands, "no picture's caption gives a cardigan command"
    for document, command in commands:
        argv = shlex.split(command)[1:]
        assert not isinstance(parse_arguments(build_parser(argv), argv), int), (
            f"{document.relative_to(REPO)}: {command}: {capsys.readouterr().err.strip()}")


def readme_table_after(lead: str) -> str:
    """The rows of the first table in README.md after the paragraph that starts ``lead``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    after = text.split(lead, 1)[1]
    rows = re.search(r"^\|.*?(?=\n(?!\|))", after, re.S | re.M)
    assert rows, f"no table after {lead!r}"
    return rows.group(0)


def test_the_readme_s_tables_of_train_and_tune_options_name_only_options_those_commands_take():
    """The training options by purpose are ``cardigan train``'s and the output settings' "fit
    with" column ``cardigan tune``'s, though no row names the command."""
    tables = {"train": readme_table_after("The options by purpose"),
              "tune": readme_table_after("A model's **output settings**")}
    wrong = []
    for command, table in tables.items():
        options = OPTION.findall(table)
        assert len(options) > 10, f"the options of the {command} table were not found"
        wrong += [f"cardigan {command} has no {option}" for option in options
                  if option not in command_options()[command]]
    assert not wrong, wrong


TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")


def table_cells(row: str) -> int:
    """How many cells a Markdown table row has: a pipe splits one even inside a code span,
    unless it is written ``\\|``."""
    return len(row.strip().replace("\\|", "").strip("|").split("|"))


def test_every_table_s_rule_and_rows_have_its_header_s_cells():
    """A table whose rule under the header has another count of cells is not drawn as a table
    at all, and a row with more cells than the header loses the ones past it (an unescaped
    ``|`` in a code span ``--cycle full|half`` splits a cell)."""
    wrong, tables = [], 0
    for document in DOCUMENTS:
        lines = document.read_text(encoding="utf-8").splitlines()
        for i, rule in enumerate(lines[1:], 1):
            if not (TABLE_RULE.match(rule) and lines[i - 1].lstrip().startswith("|")):
                continue
            tables += 1
            header = table_cells(lines[i - 1])
            if table_cells(rule) != header:
                wrong.append(f"{where(document, i + 1)}: a rule of {table_cells(rule)} cells under {header}")
            row = i + 1
            while row < len(lines) and lines[row].lstrip().startswith("|"):
                if table_cells(lines[row]) > header:
                    wrong.append(f"{where(document, row + 1)}: {table_cells(lines[row])} cells in a table of {header}")
                row += 1
    assert tables > 10, "the tables in the documents were not found"
    assert not wrong, wrong
