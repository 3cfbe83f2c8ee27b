"""The public docstrings: their Examples sections run as written (doctest), every public name
has one, and their Parameters sections name the signature's parameters, in its order.

A reader of ``help(liftnet.solve_alm)`` copies its example into a session; these tests make sure
that the example still runs and prints what the docstring says. The examples print what holds
on any machine (a status on an instance that converges everywhere, shapes, a certified
inequality as ``True``), not one CPU's digits: the same seed takes other paths on other CPUs
(README, "Reproducibility of a single run").
"""

import ast
import doctest
import functools
import importlib
import inspect
import pkgutil
import re

import pytest

import liftnet

#: how the examples are compared: ``...`` stands for any text, runs of blanks are one blank
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

#: modules never imported here: the console entry runs the CLI on import
NOT_IMPORTED = {"liftnet.__main__"}


def package_modules() -> list[str]:
    """Every module of the package, subpackages included."""
    names = ["liftnet"]
    for info in pkgutil.walk_packages(liftnet.__path__, "liftnet."):
        if info.name not in NOT_IMPORTED:
            names.append(info.name)
    return sorted(names)


def module_doctests(name: str) -> list[doctest.DocTest]:
    """The docstring examples defined in module ``name`` (not those of names it imports)."""
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    return [t for t in tests if t.examples]


def runnable(test: doctest.DocTest) -> list[doctest.Example]:
    """The examples of ``test`` that doctest runs (not marked ``+SKIP``)."""
    skip = doctest.OPTIONFLAGS_BY_NAME["SKIP"]
    return [ex for ex in test.examples if not ex.options.get(skip, False)]


#: records and warnings: the examples of the functions that return or raise them show them
NO_EXAMPLE_NEEDED = {"KKTReport", "LiftedResult", "Split", "TheoryReport", "LiftGapWarning"}


@functools.cache
def public_objects() -> dict[str, object]:
    """The names users are pointed at: ``liftnet.__all__`` and the ``__all__`` of its public
    modules (the data sets, the theory checks, the baselines, the estimators' module,
    pruning), classes and functions only, each once under its shortest name."""
    found: dict[str, object] = {}
    for name in liftnet.__all__:
        obj = getattr(liftnet, name)
        if inspect.ismodule(obj):
            found.update({f"liftnet.{name}.{sub}": getattr(obj, sub) for sub in obj.__all__})
        else:
            found[f"liftnet.{name}"] = obj
    for modname in ("liftnet.solvers.baselines", "liftnet.pruning", "liftnet.estimator"):
        module = importlib.import_module(modname)
        for sub in module.__all__:
            found.setdefault(f"{modname}.{sub}", getattr(module, sub))
    named: dict[int, str] = {}
    for qualname, obj in sorted(found.items(), key=lambda item: len(item[0])):
        if inspect.isclass(obj) or inspect.isroutine(obj):
            named.setdefault(id(obj), qualname)
    return {q: found[q] for q in named.values() if q.rsplit(".", 1)[1] not in NO_EXAMPLE_NEEDED}


def run_examples(test: doctest.DocTest) -> tuple[int, str]:
    """Run one docstring's examples; the number of failures and doctest's report of them."""
    lines: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    result = runner.run(test, out=lines.append, clear_globs=True)
    return result.failed, "".join(lines)


MODULES_WITH_EXAMPLES = [name for name in package_modules() if module_doctests(name)]


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples_run_as_written(name):
    for test in module_doctests(name):
        failed, report = run_examples(test)
        assert failed == 0, f"{test.name}:\n{report}"


@pytest.mark.parametrize("qualname", sorted(public_objects()))
def test_every_public_name_has_a_runnable_example(qualname):
    obj = public_objects()[qualname]
    tests = doctest.DocTestFinder(recurse=False).find(obj, qualname)
    examples = [ex for t in tests for ex in runnable(t)]
    assert "Examples\n" in (inspect.getdoc(obj) or ""), f"{qualname}: no Examples section"
    assert examples, f"{qualname}: its Examples section has no example that runs (all +SKIP)"


def test_a_wrong_example_output_is_reported():
    """The runner compares outputs: an example whose printed value differs fails."""
    parser = doctest.DocTestParser()
    wrong = parser.get_doctest(">>> 1 + 1\n3\n", {}, "wrong", "wrong.py", 0)
    right = parser.get_doctest(">>> 1 + 1\n2\n", {}, "right", "right.py", 0)
    assert run_examples(wrong)[0] == 1 and "Expected:\n    3" in run_examples(wrong)[1]
    assert run_examples(right) == (0, "")


def test_skipped_examples_do_not_count_as_runnable():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(">>> f()  # doctest: +SKIP\n>>> 1\n1\n", {}, "t", "t.py", 0)
    assert [ex.source for ex in runnable(test)] == ["1\n"]


def documented_parameters(doc: str) -> list[str]:
    """The names a numpydoc ``Parameters`` section lists, in order: its unindented lines
    ``name : type`` or ``a, b : type`` (``*others`` and ``**kw`` without their stars)."""
    lines = doc.splitlines()
    names: list[str] = []
    inside = False
    for i, line in enumerate(lines):
        underlined = i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip())
        if underlined and line.strip():
            if inside:  # the next section
                break
            inside = line.strip() == "Parameters"
            continue
        entry = re.match(r"(\*{0,2}\w+(?:, \*{0,2}\w+)*)(?: :|$)", line)
        if inside and entry:
            names += [name.lstrip("*") for name in entry.group(1).split(", ")]
    return names


@pytest.mark.parametrize("qualname", sorted(public_objects()))
def test_parameters_sections_follow_the_signature(qualname):
    """Every parameter is documented, nothing else is, and in the signature's order (numpydoc's
    rule): a renamed, added or removed parameter whose docstring was not updated fails here."""
    obj = public_objects()[qualname]
    signature = [name for name in inspect.signature(obj).parameters if name != "self"]
    assert documented_parameters(inspect.getdoc(obj) or "") == signature


def test_documented_parameters_reads_numpydoc_entries():
    doc = inspect.cleandoc(
        """Summary.

        Parameters
        ----------
        prob : LiftedProblem
            The problem; ``tol : float`` in its text is no entry.
        gamma, tau : float
        *others : array-like
        **kw
            Passed on.

        Returns
        -------
        x : float
        """
    )
    assert documented_parameters(doc) == ["prob", "gamma", "tau", "others", "kw"]
    assert documented_parameters("No sections.") == []


def documented_defaults(doc: str) -> dict[str, str]:
    """``{name: text}`` for the entries whose type line ends in ``default <text>``
    (numpydoc's form: ``max_iter : int >= 1, default 200``)."""
    found = {}
    for line in doc.splitlines():
        entry = re.fullmatch(r"(\w+) : .*\bdefault:? (.+)", line)
        if entry:
            found[entry.group(1)] = entry.group(2).strip()
    return found


@pytest.mark.parametrize("qualname", sorted(public_objects()))
def test_documented_defaults_are_the_signature_defaults(qualname):
    obj = public_objects()[qualname]
    parameters = inspect.signature(obj).parameters
    for name, text in documented_defaults(inspect.getdoc(obj) or "").items():
        assert ast.literal_eval(text) == parameters[name].default, (qualname, name, text)


def test_documented_defaults_reads_the_type_line():
    doc = "hidden : tuple of int, default (16,)\ntask : str, default \"auto\"\nx : float\n"
    assert documented_defaults(doc) == {"hidden": "(16,)", "task": '"auto"'}
