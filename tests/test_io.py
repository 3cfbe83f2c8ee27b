"""Result files: save_result refuses what load_result would refuse, paths are checked."""

import contextlib
import json
import os
import re
import resource
import signal

import numpy as np
import pytest
from _helpers import cut_bytes, make_read_only, make_unreadable

from liftnet.io import (
    jsonable,
    load_result,
    save_result,
    writable_file,
    writable_folder,
    write_json,
)
from liftnet.solvers.result import LiftedResult


def test_roundtrip_keeps_layers_and_dtype(tmp_path):
    """Every array comes back with its own values, shape and dtype, layer by layer: W in
    float32, V in float64 (values not exact in float32), M1 in float32, M2 in float64; b
    absent."""
    W = [np.ones((3, 2), np.float32), np.full((1, 3), 2.0, np.float32)]
    V = [np.arange(12.0).reshape(3, 4) / 10 + 1e-9]  # float64, changed by a float32 cast
    M1 = [np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)]
    M2 = [np.linspace(0, 1, 12).reshape(3, 4) / 3]
    res = {"W": W, "b": None, "V": V, "M1": M1, "M2": M2}
    path = save_result(tmp_path / "sub" / "r", res)
    assert path.endswith("r.npz")
    out = load_result(path)
    for name, given in (("W", W), ("V", V), ("M1", M1), ("M2", M2)):
        assert len(out[name]) == len(given)
        for got, want in zip(out[name], given, strict=True):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
    assert out["b"] is None


@pytest.mark.parametrize(
    "res, exc, match",
    [(None, TypeError, "res must be a LiftedResult or a mapping"),
     ({}, ValueError, "res must hold the weights W"),
     ({"W": None}, ValueError, "res must hold the weights W"),
     ({"W": 5}, TypeError, "res.W must be a list of arrays"),
     ({"W": np.ones((2, 2))}, TypeError, "res.W must be a list of arrays"),
     ({"W": []}, ValueError, "res.W must hold at least one array"),
     ({"W": [np.array(["a"])]}, TypeError, r"res.W\[0\] must be a numeric array"),
     ({"W": [[[1, 2], [3]]]}, TypeError, r"res.W\[0\] must be a numeric array"),
     ({"W": [np.ones(2) + 1j]}, TypeError, r"res.W\[0\] must be real"),
     ({"W": [np.ones((1, 1))], "b": 3}, TypeError, "res.b must be a list of arrays"),
     ({"W": [np.ones((1, 1))], "M1": [object()], "M2": [np.ones(1)]}, TypeError,
      r"res.M1\[0\] must be a numeric")],
)  # fmt: skip
def test_save_result_refuses_what_load_result_refuses(tmp_path, res, exc, match):
    with pytest.raises(exc, match=match):
        save_result(tmp_path / "r", res)
    assert not (tmp_path / "r.npz").exists()


@pytest.mark.parametrize("path", [None, 3, ["a.npz"]])
def test_paths_must_be_path_like(path):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        save_result(path, {"W": [np.ones((1, 1))]})
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        load_result(path)


def test_empty_paths_and_nul_characters_are_refused_by_name(tmp_path, monkeypatch):
    """``save_result("", res)`` wrote a hidden ``.npz`` in the current folder; a NUL character
    gave the system's "embedded null byte", naming nothing."""
    from liftnet.datasets import load_user_data

    monkeypatch.chdir(tmp_path)
    for call in (lambda p: save_result(p, _tiny()), load_result, load_user_data):
        with pytest.raises(ValueError, match="^path is empty, expected a file name"):
            call("")
        with pytest.raises(ValueError, match="^path must not contain a NUL character"):
            call("r\0.npz")
    with pytest.raises(ValueError, match="^--json: the path is empty, expected a file name"):
        writable_file("", "--json")
    with pytest.raises(TypeError, match="^path must name a path as text, got bytes"):
        save_result(_BytesPath(), _tiny())
    assert list(tmp_path.iterdir()) == []  # nothing written


class _BytesPath:
    """An ``os.PathLike`` of bytes."""

    def __fspath__(self):
        return b"r.npz"


def test_writable_checks_name_the_option(tmp_path):
    assert writable_folder(tmp_path / "new" / "dir", "--out-dir") == str(tmp_path / "new" / "dir")
    assert (tmp_path / "new" / "dir").is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="^--out-dir: cannot create or write to the folder"):
        writable_folder(tmp_path / "file" / "sub", "--out-dir")
    with pytest.raises(ValueError, match="^--json: .* is a folder"):
        writable_file(tmp_path, "--json")
    with pytest.raises(ValueError, match="^--json: cannot create"):
        writable_file(tmp_path / "file" / "r.json", "--json")
    assert writable_file(tmp_path / "a" / "r.json", "--json").endswith("r.json")


def _tiny():
    return {"W": [np.ones((2, 1)), np.full((1, 2), 3.0)], "V": [np.zeros((2, 4))]}


def test_load_result_reads_what_save_result_wrote_under_the_same_name(tmp_path):
    """``save_result("run")`` writes ``run.npz`` (as ``liftnet solve --out run`` does):
    ``load_result("run")`` reads it back."""
    path = save_result(tmp_path / "run", _tiny())
    assert path == str(tmp_path / "run.npz")
    for name in (tmp_path / "run", str(tmp_path / "run"), path):
        out = load_result(name)
        np.testing.assert_array_equal(out["W"][1], _tiny()["W"][1])
    with pytest.raises(FileNotFoundError, match=r"no such file .*/missing' \(nor .*missing.npz"):
        load_result(tmp_path / "missing")


def test_npz_extension_is_matched_in_any_case(tmp_path):
    path = save_result(tmp_path / "UP.NPZ", _tiny())
    assert path == str(tmp_path / "UP.NPZ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["UP.NPZ"]
    assert load_result(path)["W"][0].shape == (2, 1)


def test_a_folder_is_refused_with_the_parameter_name(tmp_path):
    (tmp_path / "x.npz").mkdir()
    with pytest.raises(ValueError, match=r"^path: .*x.npz' is a folder"):
        save_result(tmp_path / "x.npz", _tiny())
    with pytest.raises(ValueError, match=r"^path: .*x.npz' is a folder"):
        save_result(tmp_path / "x", _tiny())  # x -> x.npz, the folder
    with pytest.raises(ValueError, match=r"^path: .*x.npz' is a folder"):
        load_result(tmp_path / "x.npz")
    os.mkfifo(tmp_path / "pipe.npz")  # exists, but no file (said "no such file")
    with pytest.raises(ValueError, match=r"^path: .*pipe.npz' is not a regular file"):
        load_result(tmp_path / "pipe.npz")
    # the name load_result derives (PREFIX -> PREFIX.npz) too: it said "no such file 'pipe'
    # (nor 'pipe.npz')"
    with pytest.raises(ValueError, match=r"^path: .*pipe.npz' is not a regular file"):
        load_result(tmp_path / "pipe")


@pytest.mark.parametrize("kind, why", [("text", "it is not a zip archive"),
                                       ("npy", "it is not a zip archive"),
                                       ("empty", "it is empty")])
def test_a_file_that_is_no_npz_archive_is_named_as_such(tmp_path, kind, why):
    """The shared check (``_validation.check_npz_file``): it said "path: ... is not an npz
    archive written by save_result (not a zip archive)", in words of its own."""
    path = tmp_path / "f.npz"
    if kind == "text":
        path.write_text("W_1 = 1\n")
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        with open(path, "wb") as fh:
            np.save(fh, np.ones(3))
    with pytest.raises(ValueError, match=rf"^path: cannot read '.*f\.npz' as a \.npz file: "
                                         rf"{why}; expected an \.npz archive written by "
                                         rf"save_result$") as exc:
        load_result(path)
    assert "pickle" not in str(exc.value)


@pytest.mark.parametrize(
    "keep, what",
    [
        ("first_half", r"as a \.npz file: it is a damaged zip archive"),  # is_zipfile: no
        # is_zipfile: yes, but no zip header at the start: np.load spoke of pickled data
        ("second_half", r"as a \.npz file: it is a damaged zip archive"),
        ("middle_cut", r"as a liftnet result: "),  # is_zipfile: yes, np.load fails
    ],
)
def test_a_result_file_cut_short_is_refused_naming_path(tmp_path, keep, what):
    path = save_result(tmp_path / "r", {"W": [np.ones((20, 20)), np.ones((1, 20))]})
    cut_bytes(tmp_path / "r.npz", keep)
    with pytest.raises(ValueError, match=rf"^path: cannot read '{re.escape(path)}' {what}") as exc:
        load_result(path)
    assert "pickle" not in str(exc.value)


def test_an_unreadable_result_file_is_refused_as_such(tmp_path, monkeypatch):
    """A file without read permission: is_zipfile(path) swallowed the PermissionError, and
    load_result called it "not a zip archive"."""
    path = save_result(tmp_path / "r", _tiny())
    make_unreadable(path, monkeypatch)
    with pytest.raises(ValueError, match=r"^path: cannot read '.*r\.npz' as a \.npz file: "
                                         r"permission denied; expected an \.npz archive "
                                         r"written by save_result$"):
        load_result(path)


def test_an_archive_of_text_weights_or_a_bad_rho_is_refused(tmp_path):
    """``W_1`` as a string array is no liftnet result (it loaded, and failed later inside the
    solver's checks); a stored ``rho`` that is not positive is refused by name."""
    path = tmp_path / "t.npz"
    np.savez(path, W_1=np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"not a liftnet result: W_1 must be a numeric array"):
        load_result(path)
    np.savez(path, W_1=np.ones((2, 2)), rho=np.array(-1.0))
    with pytest.raises(ValueError, match="rho"):
        load_result(path)
    np.savez(path, W_1=np.ones((2, 2)), rho=np.array(2.0), eps=np.array(1e-3))
    got = load_result(path)
    assert got["rho"] == 2.0 and got["eps"] == 1e-3 and got["M1"] is None


def test_writable_file_tries_the_name_itself_and_leaves_no_file(tmp_path):
    """Only the folder was tried: a name the system refuses (too long) passed, and the solve
    before the write was lost. The name is now created and removed again; an existing file is
    left as it was."""
    with pytest.raises(ValueError, match="^--json: cannot create the file .*too long"):
        writable_file(tmp_path / ("x" * 300), "--json")
    assert writable_file(tmp_path / "new.json", "--json").endswith("new.json")
    (tmp_path / "old.json").write_text("keep me")
    assert writable_file(tmp_path / "old.json", "--json").endswith("old.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]
    assert (tmp_path / "old.json").read_text() == "keep me"


@contextlib.contextmanager
def _files_limited_to(size: int):
    """Writes beyond ``size`` bytes of a file fail (EFBIG, a real failing write as a full disk
    gives one): ``RLIMIT_FSIZE``, with its signal ignored."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)


def test_a_failed_write_leaves_no_half_file_and_keeps_the_old_one(tmp_path):
    """A write that fails (a full disk) left a half file in place of the old one; the files are
    now written beside their place and moved there, and the error names the file."""
    from liftnet.io import write_json

    old = save_result(tmp_path / "r", _tiny())
    before = open(old, "rb").read()
    (tmp_path / "r.json").write_text("{}\n")
    with _files_limited_to(100):
        with pytest.raises(OSError, match="too large") as exc:
            save_result(tmp_path / "r", {"W": [np.zeros((20, 20))]})
        assert exc.value.filename == old
        with pytest.raises(OSError, match="too large") as exc:
            write_json(tmp_path / "r.json", {"a": "x" * 1000})
        assert exc.value.filename == str(tmp_path / "r.json")
    assert open(old, "rb").read() == before and (tmp_path / "r.json").read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.npz"]  # no temporaries


def test_written_files_have_the_usual_permissions(tmp_path):
    """The temporary file a result is written to becomes the result: it is made as ``open``
    makes a file (0o666 less the umask), not private as ``tempfile``'s are (0o600)."""
    import os
    import stat

    from liftnet.io import write_json

    (tmp_path / "plain").write_text("")
    usual = stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    for path in (save_result(tmp_path / "r", _tiny()), write_json(tmp_path / "r.json", {})):
        assert stat.S_IMODE(os.stat(path).st_mode) == usual


def test_load_result_of_a_folder_says_so(tmp_path):
    """``load_result("adir")`` (``--init adir``) said "no such file 'adir' (nor 'adir.npz')"."""
    (tmp_path / "adir").mkdir()
    with pytest.raises(ValueError, match=r"^path: .*adir' is a folder, expected a result file"):
        load_result(tmp_path / "adir")


def test_write_json_checks_path_as_save_result_does(tmp_path):
    """``write_json`` raised a bare ``TypeError`` for ``None``, ``IsADirectoryError`` for a
    folder and ``FileNotFoundError`` for a place it cannot create: now errors naming ``path``
    (its missing folders are still created)."""
    from liftnet.io import write_json

    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got NoneType"):
        write_json(None, {})
    with pytest.raises(ValueError, match="path: .* is a folder"):
        write_json(tmp_path, {})
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="^path: cannot create"):
        write_json(tmp_path / "file" / "sub" / "r.json", {})
    out = tmp_path / "new" / "r.json"
    assert write_json(out, {"a": 1}) == str(out) and out.read_text() == '{\n  "a": 1\n}\n'


def test_a_result_file_of_another_extension_is_read_as_given(tmp_path):
    """An existing file is read under its own name, whatever its extension (``--init
    run.bak``); only a name that is no file gets ``.npz`` appended."""
    data = open(save_result(tmp_path / "run", _tiny()), "rb").read()
    (tmp_path / "run.bak").write_bytes(data)
    out = load_result(tmp_path / "run.bak")
    np.testing.assert_array_equal(out["W"][1], _tiny()["W"][1])


def test_layers_numbered_with_a_gap_are_refused(tmp_path):
    """``W_1`` and ``W_3`` without ``W_2`` is no network: refused by name, not read as a
    two-layer one."""
    np.savez(tmp_path / "g.npz", W_1=np.ones((2, 2)), W_3=np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"has W_l for l = \[1, 3\], not 1\.\.2"):
        load_result(tmp_path / "g.npz")


def test_json_keys_become_strings(tmp_path):
    """Mapping keys are written as strings (JSON's only kind): numpy integer keys (a count
    per class label) made ``json.dumps`` fail."""
    from liftnet.io import jsonable, write_json

    assert jsonable({1: np.int64(2), np.int64(3): [np.float64(0.5)]}) == {"1": 2, "3": [0.5]}
    out = tmp_path / "k.json"
    write_json(out, {np.int64(7): 1})
    assert out.read_text() == '{\n  "7": 1\n}\n'


def test_two_keys_that_become_one_json_name_are_refused_not_merged(tmp_path):
    """``{1: a, "1": b}`` became ``{"1": b}``: one value was dropped without a word. It is a
    ``ValueError`` naming both keys, and no file is written."""
    from liftnet.io import jsonable, write_json

    with pytest.raises(ValueError, match=r"the keys 1 and '1' as JSON: both become the name '1'"):
        jsonable({"a": {1: "one", "1": "uno"}})
    with pytest.raises(ValueError, match="both become the name '7'"):
        write_json(tmp_path / "k.json", {np.int64(7): 1, "7": 2})
    assert not (tmp_path / "k.json").exists()
    assert jsonable({1: 1, 2: 2}) == {"1": 1, "2": 2}


def test_a_report_that_holds_itself_is_refused_and_no_file_is_written(tmp_path):
    """A dict or list that holds itself recursed until ``RecursionError``; a value shared by two
    keys is no cycle and is written twice."""
    from liftnet.io import jsonable, write_json

    d = {"a": 1}
    d["self"] = d
    lst = [1]
    lst.append({"back": lst})
    for bad, kind in ((d, "dict"), (lst, "list")):
        with pytest.raises(ValueError, match=f"^cannot write a {kind} that holds itself"):
            write_json(tmp_path / "r.json", {"report": bad})
    assert not (tmp_path / "r.json").exists()
    shared = [1.0, np.nan]
    assert jsonable({"a": shared, "b": (shared, np.arange(2))}) == {
        "a": [1.0, None], "b": [[1.0, None], [0, 1]]}


def test_roundtrip_keeps_the_order_of_ten_or_more_layers(tmp_path):
    """Layers 10 and 11 come back after layer 9, not after layer 1 (a mutation review: an
    order by name passed every test, none of which had ten layers)."""
    W = [np.full((1, 1), float(l)) for l in range(1, 12)]
    out = load_result(save_result(tmp_path / "r", {"W": W, "b": W}))
    assert [w[0, 0] for w in out["W"]] == list(range(1, 12))
    assert [x[0, 0] for x in out["b"]] == list(range(1, 12))


@pytest.mark.parametrize("key, value", [("rho", -1.0), ("eps", 0.0), ("rho", float("nan"))])
def test_save_result_refuses_a_state_load_result_would_refuse(tmp_path, key, value):
    with pytest.raises(ValueError, match=f"res.{key}"):
        save_result(tmp_path / "r", {"W": [np.ones((1, 1))], key: value})
    assert not any(tmp_path.iterdir())


def test_jsonable_keeps_booleans_and_drops_every_non_finite_float():
    """JSON has no inf or NaN: every one becomes null, in arrays too; booleans stay
    booleans (not 1 and 0)."""
    text = json.dumps(jsonable({"a": True, "b": np.bool_(False), "c": np.array([True]),
                                "d": float("inf"), "e": np.float32(-np.inf),
                                "f": np.array([1.0, np.nan, np.inf])}), allow_nan=False)
    assert json.loads(text) == {"a": True, "b": False, "c": [True], "d": None, "e": None,
                                "f": [1.0, None, None]}
    assert '"a": true' in text and '"c": [true]' in text


def test_a_path_that_names_a_folder_is_refused_by_name(tmp_path):
    """``save_result("out/", res)`` wrote a hidden ``out/.npz`` (creating ``out``), which
    ``load_result("out/")`` read back as if it were named; ``.`` and ``..`` are folders too (as
    ``liftnet solve --out`` refuses them)."""
    from liftnet.datasets import load_user_data

    for name in ("out/", "out/.", "out/..", "./"):
        path = os.path.join(str(tmp_path), name)
        for call in (lambda p: save_result(p, _tiny()), load_result, load_user_data):
            with pytest.raises(ValueError, match=r"^path names a folder \(.*\), expected a "
                                                 r"file name"):
                call(path)
    assert list(tmp_path.iterdir()) == []  # nothing written, no folder made


def test_a_layer_numbered_zero_is_refused_by_name(tmp_path):
    """A file with W_0, W_2, W_3 is refused naming its layers (a check by count alone let it
    through, to a bare KeyError)."""
    np.savez(tmp_path / "z.npz", W_0=np.ones((2, 2)), W_2=np.ones((2, 2)), W_3=np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"has W_l for l = \[0, 2, 3\], not 1\.\.3"):
        load_result(tmp_path / "z.npz")


# A mutation review of liftnet/io.py and liftnet/solvers/result.py (session 51).
def _tiny():
    return {"W": [np.ones((2, 1)), np.full((1, 2), 3.0)], "V": [np.zeros((2, 4))]}


def test_a_bare_file_name_is_written_in_the_current_folder(tmp_path, monkeypatch):
    """``save_result("r", res)`` and ``write_json("r.json", ...)`` (no folder in the name: its
    folder is ``""``, the current one) write there; every other test named a folder."""
    monkeypatch.chdir(tmp_path)
    assert save_result("r", _tiny()) == "r.npz"
    assert write_json("r.json", {"a": 1}) == "r.json"
    assert writable_file("s.json", "--json") == "s.json"
    np.testing.assert_array_equal(load_result("r")["W"][1], _tiny()["W"][1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.npz"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_folder_no_file_can_be_made_in_is_refused_even_for_root(tmp_path):
    """``writable_folder`` tries a file in the folder: ``/proc`` exists (so ``makedirs`` passes)
    but takes no new file, for root too (a read-only folder of the tests is writable by root)."""
    refused = "^--out-dir: cannot create or write to the folder '/proc'"
    with pytest.raises(ValueError, match=refused):
        writable_folder("/proc", "--out-dir")


def test_an_existing_read_only_file_is_refused_before_the_solve(tmp_path, monkeypatch):
    (tmp_path / "r.json").write_text("{}\n")
    make_read_only(tmp_path / "r.json", monkeypatch)
    with pytest.raises(ValueError, match="^--out: cannot write .*r.json.*read-only"):
        writable_file(tmp_path / "r.json", "--out")
    assert (tmp_path / "r.json").read_text() == "{}\n"


def test_a_link_to_a_file_is_written_through_and_stays_a_link(tmp_path):
    """A symbolic link is written in place (through ``open``), not replaced by a new file: its
    target gets the text and the link is kept (``/dev/stdout`` redirected by a shell)."""
    target = tmp_path / "target.json"
    target.write_text("old\n")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_json(link, {"a": 1})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == '{\n  "a": 1\n}\n'


def test_an_archive_holding_a_pickle_is_refused_without_running_it(tmp_path):
    """An npz member of dtype object holds a pickle: ``np.load(allow_pickle=False)`` refuses it,
    so the call its ``__reduce__`` names never runs."""
    made = tmp_path / "made_by_the_pickle"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(made),))

    path = tmp_path / "evil.npz"
    np.savez(path, W_1=np.array([Payload()], dtype=object))
    with pytest.raises(ValueError, match=r"^path: cannot read .*evil\.npz.* as a liftnet result"):
        load_result(path)
    assert not made.exists()


@pytest.mark.parametrize("key", ["rho", "eps"])
def test_a_stored_zero_rho_or_eps_is_refused(tmp_path, key):
    """A penalty or tolerance of 0 is as invalid read as written (save_result refuses eps = 0)."""
    path = tmp_path / "z.npz"
    np.savez(path, W_1=np.ones((2, 2)), **{key: np.array(0.0)})
    with pytest.raises(ValueError, match=f"{key} in .*z.npz"):
        load_result(path)


def test_an_archive_without_weights_is_refused_by_name(tmp_path):
    """Arrays of a result but no ``W_l`` (only ``V_1``): no network, refused naming ``W``."""
    path = tmp_path / "v.npz"
    np.savez(path, V_1=np.ones((2, 3)), M1_1=np.zeros((2, 3)))
    no_weights = r"holds no weights W_1, W_2, \.\.\. \(not a liftnet result\)"
    with pytest.raises(ValueError, match=no_weights):
        load_result(path)


def test_values_json_has_no_type_for_are_written_as_text(tmp_path):
    """A path, a complex number or a set in a report is written as its text, not refused."""
    import json
    import pathlib

    report = {"file": pathlib.Path("a/b.csv"), "z": 1 + 2j, "s": {3}}
    assert jsonable(report) == {"file": "a/b.csv", "z": "(1+2j)", "s": "{3}"}
    out = write_json(tmp_path / "r.json", report)
    assert json.loads(open(out).read())["file"] == "a/b.csv"


def test_repr_names_the_time_and_survives_a_stopped_solve():
    r = LiftedResult(solver="alm", status="interrupted", message="stopped", objective=None,
                     nit=0, time=0.5, kkt=None, W=None)
    assert repr(r) == ("LiftedResult(solver='alm', status='interrupted', message='stopped', "
                       "objective=None, nit=0, time=0.5)")


def test_jsonable_turns_numpy_string_scalars_into_python_str():
    """"numpy scalars and arrays turned into Python ones": an element of a text array
    (``np.str_``) came back unchanged."""
    names = np.array(["alm", "sgd"])
    out = jsonable({"method": names[0], "all": [names[1]]})
    assert out == {"method": "alm", "all": ["sgd"]}
    assert type(out["method"]) is str and type(out["all"][0]) is str


def test_multipliers_are_written_and_read_together_or_not_at_all(tmp_path):
    """``save_result`` wrote ``M1`` without ``M2`` and ``load_result`` returned it, a mapping
    every solver's ``init`` then refused (parse_init takes both or neither): both now refuse
    it by name; both or neither still round-trip."""
    W = [np.ones((3, 2)), np.ones((1, 3))]
    M = [np.zeros((3, 4))]
    for one in ("M1", "M2"):
        with pytest.raises(ValueError, match=rf"res.M1 and res.M2 must be given together .*"
                                             rf"got {one} only"):
            save_result(tmp_path / "one", {"W": W, one: M})
        assert not (tmp_path / "one.npz").exists()
        np.savez(tmp_path / f"hand_{one}.npz", W_1=W[0], W_2=W[1], **{f"{one}_1": M[0]})
        with pytest.raises(ValueError, match=rf"holds {one}_l without M"):
            load_result(tmp_path / f"hand_{one}.npz")
    both = load_result(save_result(tmp_path / "both", {"W": W, "M1": M, "M2": M}))
    assert len(both["M1"]) == len(both["M2"]) == 1
    neither = load_result(save_result(tmp_path / "neither", {"W": W}))
    assert neither["M1"] is None and neither["M2"] is None
