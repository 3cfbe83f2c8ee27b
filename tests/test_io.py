"""Result files: save_result refuses what load_result would refuse, paths are checked."""

import numpy as np
import pytest

from liftnet.io import load_result, save_result, writable_file, writable_folder


def test_roundtrip_keeps_layers_and_dtype(tmp_path):
    W = [np.ones((3, 2), np.float32), np.full((1, 3), 2.0, np.float32)]
    path = save_result(tmp_path / "sub" / "r", {"W": W, "b": None, "V": [np.zeros((3, 4))]})
    assert path.endswith("r.npz")
    out = load_result(path)
    assert [w.dtype for w in out["W"]] == [np.float32, np.float32]
    np.testing.assert_array_equal(out["W"][1], W[1])
    assert out["b"] is None and out["V"][0].shape == (3, 4) and out["M1"] is None


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
     ({"W": [np.ones((1, 1))], "M1": [object()]}, TypeError, r"res.M1\[0\] must be a numeric")],
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
