"""Checkpoints: round trips, atomic writes, and refusing bad files without running anything or
changing the model."""

import os
import pickle
import stat
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_reg
from tinygrad_reg import Tensor
from tinygrad_reg.data.generators import generator_state, set_generator_state
from tinygrad_reg.nn import MLP
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits
from tinygrad_reg.optim import SGD, Adam, CosineAnnealingLR, LinearLR, ReduceLROnPlateau, StepLR
from tinygrad_reg.train import checkpoint as checkpoint_module
from tinygrad_reg.train.callbacks import LRSchedule
from tinygrad_reg.train.checkpoint import Checkpoint, CheckpointError, load, save
from tinygrad_reg.train.loop import fit


def make_params(seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    return {
        "W1": Tensor(rng.randn(3, 2).astype(dtype), requires_grad=True),
        "b1": Tensor(rng.randn(3, 1).astype(dtype), requires_grad=True),
    }


def train(params, optimizer, steps, seed):
    """A few steps on random gradients (the same for the same seed)."""
    rng = np.random.RandomState(seed)
    for _ in range(steps):
        for p in params.values():
            p.grad = rng.randn(*p.shape).astype(p.dtype)
        optimizer.step()


def snapshot(params, optimizer=None):
    arrays = {name: p.numpy() for name, p in params.items()}
    if optimizer is not None:
        arrays.update({"opt:" + k: v for k, v in optimizer.state_dict().items()})
    return arrays


def assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def leftovers(directory):
    return [name for name in os.listdir(directory) if name.endswith(".tmp")]


# --- round trips ----------------------------------------------------------------------------


def test_params_optimizer_and_metadata_round_trip_and_training_continues_identically(tmp_path):
    path = tmp_path / "run.npz"
    params = make_params()
    optimizer = Adam(params.values(), lr=0.01, weight_decay=0.1)
    train(params, optimizer, steps=3, seed=1)
    metadata = {"iteration": 3, "note": "λ = 0.7", "layers": [2, 3]}
    assert save(path, params, optimizer, metadata=metadata) == str(path)

    checkpoint = load(path)
    assert isinstance(checkpoint, Checkpoint) and checkpoint.metadata == metadata
    fresh = make_params(seed=99)
    fresh_optimizer = Adam(fresh.values(), lr=0.5)
    checkpoint.restore(fresh, fresh_optimizer)
    assert_same(snapshot(fresh, fresh_optimizer), snapshot(params, optimizer))
    assert not fresh["W1"].data.flags.writeable

    train(params, optimizer, steps=2, seed=2)
    train(fresh, fresh_optimizer, steps=2, seed=2)
    assert_same(snapshot(fresh, fresh_optimizer), snapshot(params, optimizer))


def test_a_module_resumes_training_exactly_where_it_stopped(tmp_path):
    rng = np.random.RandomState(0)
    X, Y = rng.randn(2, 30), (rng.rand(1, 30) < 0.5).astype(float)
    model = MLP([2, 5, 1], seed=1)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    fit(model, X, Y, optimizer=optimizer, iterations=5, progress=False)
    save(tmp_path / "mid.npz", model, optimizer, metadata={"iteration": 5})
    fit(model, X, Y, optimizer=optimizer, iterations=5, progress=False)

    resumed = MLP([2, 5, 1], seed=2)
    resumed_optimizer = SGD(resumed.parameters(), lr=0.1, momentum=0.9)
    checkpoint = load(tmp_path / "mid.npz")
    assert set(checkpoint.parameters) == {"W1", "b1", "W2", "b2"}
    checkpoint.restore(resumed, resumed_optimizer)
    fit(resumed, X, Y, optimizer=resumed_optimizer, iterations=5, progress=False)
    assert_same(resumed.state_dict(), model.state_dict())


RUNS = {
    "sgd": {},
    "adam": {"optimizer": Adam, "lr": 0.01},
    "dropout": {"keep_prob": 0.7},
    "mini-batches": {"batch_size": 7},
    "all of them, compiled": {
        "optimizer": Adam,
        "lr": 0.01,
        "keep_prob": 0.7,
        "batch_size": 7,
        "compiled": True,
    },
}


@pytest.mark.parametrize("run", RUNS)
@pytest.mark.parametrize("pause", [1, 9, 12])  # 9 and 12: mid-epoch and at its end (m = 24)
def test_a_run_saved_and_resumed_is_bit_for_bit_the_run_never_stopped(tmp_path, run, pause):
    """30 iterations in one call, or `pause` then save, load into new objects and go on to
    30 from the saved parameters, optimizer state and generator states: the same parameters and
    the same optimizer state, to the last bit."""
    settings = dict(RUNS[run])
    optimizer_class, lr = settings.pop("optimizer", SGD), settings.pop("lr", 0.3)
    keep_prob = settings.pop("keep_prob", 1.0)
    rng = np.random.RandomState(0)
    X, Y = rng.randn(2, 24), (rng.rand(1, 24) < 0.5).astype(float)
    fit_settings = {"penalty": "l2", "lambd": 0.7, "seed": 5, "progress": False, **settings}

    def new_run(seed):
        model = MLP([2, 6, 4, 1], seed=seed, keep_prob=keep_prob)
        return model, optimizer_class(model.parameters(), lr=lr)

    once, once_optimizer = new_run(1)
    fit(once, X, Y, optimizer=once_optimizer, iterations=30, **fit_settings)

    first, first_optimizer = new_run(1)
    history = fit(first, X, Y, optimizer=first_optimizer, iterations=pause, **fit_settings)
    generators = {"dropout": generator_state(first.rng), "batch_order": history.batch_order}
    save(tmp_path / "run.npz", first, first_optimizer, metadata=generators)

    checkpoint = load(tmp_path / "run.npz")
    second, second_optimizer = new_run(2)  # other initial weights and masks: all restored
    checkpoint.restore(second, second_optimizer)
    set_generator_state(second.rng, checkpoint.metadata["dropout"], "test")
    history = fit(
        second,
        X,
        Y,
        optimizer=second_optimizer,
        iterations=30,
        start_iteration=pause,
        batch_order=checkpoint.metadata["batch_order"],
        **fit_settings,
    )
    assert history.steps == 30 - pause and history.iterations == [29]  # the last is logged
    assert_same(second.state_dict(), once.state_dict())
    assert_same(second_optimizer.state_dict(), once_optimizer.state_dict())
    assert generator_state(second.rng) == generator_state(once.rng)


def test_a_module_that_does_not_fit_is_unchanged(tmp_path):
    save(tmp_path / "small.npz", MLP([2, 5, 1]))
    model = MLP([2, 6, 1])
    before = model.state_dict()
    with pytest.raises(CheckpointError, match=r"'W1' has shape \(5, 2\), the model's \(6, 2\)"):
        load(tmp_path / "small.npz").restore(model)
    assert_same(model.state_dict(), before)


def test_a_dict_of_arrays_round_trips_with_its_dtypes(tmp_path):
    arrays = {"W1": np.arange(6.0).reshape(2, 3), "b1": np.ones((2, 1), dtype=np.float32)}
    save(tmp_path / "p.npz", arrays)
    checkpoint = load(tmp_path / "p.npz")
    assert_same(checkpoint.parameters, arrays)
    assert checkpoint.parameters["b1"].dtype == np.float32
    assert checkpoint.optimizer_state is None and checkpoint.metadata == {}


def test_the_path_is_used_as_given_and_save_and_load_are_exported(tmp_path):
    path = tmp_path / "checkpoint-without-suffix"
    tinygrad_reg.save(path, make_params())
    assert os.listdir(tmp_path) == [path.name]
    assert set(tinygrad_reg.load(path).parameters) == {"W1", "b1"}


def test_saving_over_an_existing_checkpoint_replaces_it(tmp_path):
    path = tmp_path / "c.npz"
    save(path, make_params(seed=1))
    save(path, make_params(seed=2))
    assert_same(load(path).parameters, snapshot(make_params(seed=2)))
    assert leftovers(tmp_path) == []


# --- atomic writes --------------------------------------------------------------------------


@pytest.mark.parametrize("target_exists", [True, False])
def test_a_crash_while_writing_leaves_the_old_file_and_no_temporary_file(
    tmp_path, monkeypatch, target_exists
):
    path = tmp_path / "c.npz"
    if target_exists:
        save(path, make_params(seed=1))
    before = path.read_bytes() if target_exists else None

    def crash_half_way(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt  # a crash, not just an error

    monkeypatch.setattr(np, "savez", crash_half_way)
    with pytest.raises(KeyboardInterrupt):
        save(path, make_params(seed=2))
    assert leftovers(tmp_path) == []
    if target_exists:
        assert path.read_bytes() == before
    else:
        assert not path.exists()


# --- refusing bad files ---------------------------------------------------------------------


class Payload:
    """Unpickling this creates a file: if the file appears, code from the checkpoint ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_an_entry_holding_a_pickled_object_is_refused_and_nothing_runs(tmp_path):
    marker = str(tmp_path / "executed")
    path = tmp_path / "evil.npz"
    evil = np.empty(1, dtype=object)
    evil[0] = Payload(marker)
    np.savez(path, format=np.array("tinygrad_reg.checkpoint/1"), **{"param/W1": evil})
    with pytest.raises(CheckpointError, match=r"entry 'param/W1'.*pickled Python object"):
        load(path)
    assert not os.path.exists(marker)


def test_a_pickle_file_is_refused_and_nothing_runs(tmp_path):
    marker = str(tmp_path / "executed")
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(CheckpointError, match=r"not an \.npz archive \(a Python pickle\)"):
        load(path)
    assert not os.path.exists(marker)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fraction=st.floats(0.0, 0.999))
def test_every_truncation_of_a_checkpoint_is_a_clear_error(tmp_path, fraction):
    whole = tmp_path / "whole.npz"
    if not whole.exists():
        save(whole, make_params(), SGD(make_params().values(), lr=0.1), {"a": 1})
    data = whole.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: int(fraction * len(data))])
    with pytest.raises(CheckpointError, match=r"cut\.npz"):
        load(cut)


def test_a_corrupted_byte_inside_an_entry_is_a_clear_error(tmp_path):
    path = tmp_path / "c.npz"
    save(path, {"W1": np.zeros((50, 50))})
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the W1 member: its CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load(path)


def test_files_that_are_not_checkpoints_are_named(tmp_path):
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match=r"holds a single \.npy array"):
        load(tmp_path / "one.npy")
    np.savez(tmp_path / "plain.npz", W1=np.zeros(3))
    with pytest.raises(CheckpointError, match="no 'format' entry"):
        load(tmp_path / "plain.npz")
    np.savez(tmp_path / "future.npz", format=np.array("tinygrad_reg.checkpoint/9"))
    with pytest.raises(CheckpointError, match=r"its format is 'tinygrad_reg\.checkpoint/9'"):
        load(tmp_path / "future.npz")
    np.savez(
        tmp_path / "extra.npz",
        format=np.array("tinygrad_reg.checkpoint/1"),
        metadata=np.array("{}"),
        surprise=np.zeros(1),
        **{"param/W": np.zeros(1)},
    )
    with pytest.raises(CheckpointError, match="unexpected entry 'surprise'"):
        load(tmp_path / "extra.npz")
    np.savez(
        tmp_path / "meta.npz",
        format=np.array("tinygrad_reg.checkpoint/1"),
        metadata=np.array("[1, 2"),
        **{"param/W": np.zeros(1)},
    )
    with pytest.raises(CheckpointError, match="metadata is not valid JSON"):
        load(tmp_path / "meta.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz")


# --- restoring checks everything first ------------------------------------------------------


@pytest.mark.parametrize(
    ("saved", "message"),
    [
        ({"W1": np.zeros((3, 2))}, r"missing parameters \['b1'\]"),
        (
            {"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1)), "W2": np.zeros(1)},
            r"unexpected parameters \['W2'\]",
        ),
        ({"W1": np.zeros((2, 3)), "b1": np.zeros((3, 1))}, r"'W1' has shape \(2, 3\)"),
        ({"W1": np.zeros((3, 2), np.float32), "b1": np.zeros((3, 1))}, "'W1' has dtype float32"),
    ],
)
def test_a_checkpoint_that_does_not_fit_the_model_changes_nothing(tmp_path, saved, message):
    save(tmp_path / "c.npz", saved)
    params = make_params()
    before = snapshot(params)
    with pytest.raises(CheckpointError, match=message):
        load(tmp_path / "c.npz").restore(params)
    assert_same(snapshot(params), before)


def test_an_optimizer_state_that_does_not_fit_changes_neither_model_nor_optimizer(tmp_path):
    params = make_params()
    sgd = SGD(params.values(), lr=0.1, momentum=0.9)
    train(params, sgd, steps=1, seed=0)
    save(tmp_path / "c.npz", make_params(seed=5), sgd)

    adam = Adam(params.values(), lr=0.1)
    train(params, adam, steps=1, seed=1)
    before = snapshot(params, adam)
    checkpoint = load(tmp_path / "c.npz")
    with pytest.raises(CheckpointError, match="saved by 'SGD'; expected 'Adam'"):
        checkpoint.restore(params, adam)
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        load(save(tmp_path / "p.npz", make_params())).restore(params, adam)
    assert_same(snapshot(params, adam), before)


# --- save errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("what", "metadata", "error", "message"),
    [
        ([np.zeros(2)], None, TypeError, "got list"),
        ({}, None, ValueError, "no parameters"),
        ({"W": np.zeros(2, dtype=int)}, None, TypeError, "'W' has dtype int64"),
        ({"W": np.zeros(2, dtype=object)}, None, TypeError, "'W' has dtype object"),
        ({"W": np.zeros(2)}, {"f": object()}, TypeError, "not JSON-serializable"),
        ({"W": np.zeros(2)}, [1, 2], TypeError, "metadata is a list"),
    ],
)
def test_save_rejects_what_it_cannot_store_safely(tmp_path, what, metadata, error, message):
    with pytest.raises(error, match=message):
        save(tmp_path / "c.npz", what, metadata=metadata)
    assert os.listdir(tmp_path) == []


def test_save_into_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save(tmp_path / "nowhere" / "c.npz", make_params())


# --- damaged and hostile files (issue 11, item 12) --------------------------------------------


def npy_member(header: str, data: bytes = b"") -> bytes:
    """A .npy file written by hand (version 1.0), for headers numpy would never write."""
    encoded = header.encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(encoded)) + encoded + data


def checkpoint_with(path, **members: bytes):
    """A checkpoint's format and metadata entries plus the given raw members."""
    save(path, make_params())
    with zipfile.ZipFile(path, "a") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def test_a_file_that_is_not_an_archive_is_not_blamed_on_pickles(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello, not a checkpoint")
    with pytest.raises(CheckpointError, match=r"notes\.npz.*not an \.npz archive \(not a zip") as e:
        load(path)
    assert "pickle" not in str(e.value)


def test_a_header_over_ten_thousand_bytes_is_not_blamed_on_pickles(tmp_path):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}" + " " * 10_000 + "\n"
    path = checkpoint_with(tmp_path / "c.npz", **{"param/W2.npy": npy_member(header, bytes(8))})
    with pytest.raises(
        CheckpointError, match=r"entry 'param/W2' of .*c\.npz has a \.npy header"
    ) as e:
        load(path)
    assert "pickle" not in str(e.value)


def test_an_entry_declaring_sixteen_tebibytes_is_refused_before_allocating(tmp_path):
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': (2, {2**40})}}"
    path = checkpoint_with(tmp_path / "c.npz", **{"param/W2.npy": npy_member(header, bytes(16))})
    with pytest.raises(CheckpointError, match=r"'param/W2'.*declares shape \(2, 1099511627776\)"):
        load(path)


def test_metadata_nested_two_hundred_thousand_deep_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "c.npz"
    save(path, make_params())
    entries = dict(np.load(path))
    entries["metadata"] = np.array("[" * 200_000 + "]" * 200_000)
    np.savez(path, **entries)
    with pytest.raises(CheckpointError, match=r"c\.npz.*metadata is nested too deeply"):
        load(path)


def test_bytes_paths_save_and_load(tmp_path):
    path = os.fsencode(tmp_path / "c.npz")
    assert save(path, make_params()) == str(tmp_path / "c.npz")
    assert_same(load(path).parameters, snapshot(make_params()))
    with pytest.raises(TypeError, match="load: the path is a int"):
        load(3)


# --- symlinks and permissions (item 10) -------------------------------------------------------


def test_saving_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "runs" / "best.npz"
    target.parent.mkdir()
    save(target, make_params(seed=1))
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    save(link, make_params(seed=2))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert_same(load(target).parameters, snapshot(make_params(seed=2)))
    assert leftovers(tmp_path) == [] and leftovers(target.parent) == []


def test_a_dangling_symlink_gets_its_target_written(tmp_path):
    link = tmp_path / "c.npz"
    link.symlink_to(tmp_path / "real.npz")
    save(link, make_params())
    assert link.is_symlink()
    assert_same(load(tmp_path / "real.npz").parameters, snapshot(make_params()))


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_saving_again_keeps_the_files_permission_bits(tmp_path, mode):
    path = tmp_path / "c.npz"
    save(path, make_params(seed=1))
    os.chmod(path, mode)
    save(path, make_params(seed=2))
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert_same(load(path).parameters, snapshot(make_params(seed=2)))


# --- temporary files left by a killed save (item 11) ------------------------------------------


def finished_process_id() -> int:
    """The id of a process that has exited (and been reaped): no process has it now."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def temporary_name(target: str, pid: int, host: str | None = None) -> str:
    host = checkpoint_module._host_tag() if host is None else host
    return f".{target}.tinygrad_reg-{pid}-{host}-{'0' * 32}.tmp"


def test_the_next_save_removes_only_stale_temporary_files_of_its_own(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [
            temporary_name("c.npz", finished_process_id()),
            temporary_name("other.npz", finished_process_id()),
        ]
        kept = [
            temporary_name("c.npz", sleeper.pid),  # a save in progress in another process
            temporary_name("c.npz", os.getpid()),  # ... or in another thread of this one
            temporary_name("c.npz", finished_process_id(), host="ffffffff"),  # another machine
            ".c.npz.1234.tmp",  # not named by save
            "notes.tmp",
        ]
        if checkpoint_module._host_tag() == "ffffffff":
            kept.pop(2)
        for name in stale + kept:
            (tmp_path / name).write_bytes(b"PK half an archive")
        save(tmp_path / "c.npz", make_params())
        assert sorted(leftovers(tmp_path)) == sorted(kept)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert_same(load(tmp_path / "c.npz").parameters, snapshot(make_params()))


def test_a_schedule_saved_in_a_checkpoint_resumes_bit_for_bit(tmp_path):
    def run(model, optimizer, scheduler, epochs):
        X = np.random.default_rng(5).normal(size=(2, 16))
        Y = (X[:1] > 0).astype(float)
        for _ in range(epochs):
            optimizer.zero_grad()
            binary_cross_entropy_with_logits(model(Tensor(X)), Tensor(Y)).backward()
            optimizer.step()
            scheduler.step()

    def fresh():
        model = MLP([2, 3, 1], rng=np.random.default_rng(1))
        optimizer = Adam(model.parameters(), lr=0.05)
        return model, optimizer, CosineAnnealingLR(optimizer, T_max=7, eta_min=1e-3)

    whole = fresh()
    run(*whole, 10)
    first = fresh()
    run(*first, 5)
    save(tmp_path / "run.npz", first[0], first[1], scheduler=first[2])
    resumed = fresh()
    load(tmp_path / "run.npz").restore(*resumed)
    run(*resumed, 5)
    assert resumed[1].param_groups[0]["lr"] == whole[1].param_groups[0]["lr"]
    assert resumed[2].state() == whole[2].state()
    for a, b in zip(resumed[0].parameters(), whole[0].parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


SCHEDULED_RUNS = {
    # name → (the schedule on the optimizer, LRSchedule's every, fit's extra settings)
    "StepLR by epoch": (lambda opt: StepLR(opt, step_size=1, gamma=0.7), "epoch", {}),
    "cosine by epoch, compiled": (
        lambda opt: CosineAnnealingLR(opt, T_max=4, eta_min=1e-3),
        "epoch",
        {"compiled": True},
    ),
    "warm-up by iteration": (
        lambda opt: LinearLR(opt, start_factor=0.1, total_iters=10),
        "iteration",
        {},
    ),
    # log_every=4 is not a multiple of the 3 iterations of an epoch (m = 18 after the split,
    # batches of 7): the cost fed at each epoch's end is measured there, whatever log_every and
    # the pause; restore_best=False, or the paused run would end on its best parameters
    "plateau on the validation cost": (
        lambda opt: ReduceLROnPlateau(opt, factor=0.5, patience=0),
        "epoch",
        {"validation_split": 0.25, "log_every": 4, "restore_best": False},
    ),
}


@pytest.mark.parametrize("run", SCHEDULED_RUNS)
@pytest.mark.parametrize("pause", [5, 12])  # mid-epoch and at an epoch's end
def test_a_scheduled_fit_saved_and_resumed_is_bit_for_bit_the_run_never_stopped(
    tmp_path, run, pause
):
    """fit with an LRSchedule callback (Adam, dropout, mini-batches): 30 iterations in one
    call, or `pause`, then save with the schedule and go on to 30 in new objects restored from
    the file: the same parameters, optimizer state, learning rates and schedule state."""
    make_schedule, every, extra = SCHEDULED_RUNS[run]
    rng = np.random.RandomState(0)
    X, Y = rng.randn(2, 24), (rng.rand(1, 24) < 0.5).astype(float)
    settings = {"seed": 5, "batch_size": 7, "progress": False, **extra}

    def new_run(seed):
        model = MLP([2, 6, 4, 1], seed=seed, keep_prob=0.8)
        optimizer = Adam(model.parameters(), lr=0.02)
        return model, optimizer, make_schedule(optimizer)

    def go(model, optimizer, schedule, **options):
        callbacks = [LRSchedule(schedule, every=every)]
        return fit(model, X, Y, optimizer=optimizer, callbacks=callbacks, **settings, **options)

    once = new_run(1)
    go(*once, iterations=30)

    first = new_run(1)
    history = go(*first, iterations=pause)
    generators = {"dropout": generator_state(first[0].rng), "batch_order": history.batch_order}
    save(tmp_path / "run.npz", first[0], first[1], metadata=generators, scheduler=first[2])

    checkpoint = load(tmp_path / "run.npz")
    second = new_run(2)  # other initial weights, masks and learning rates: all restored
    second[1].param_groups[0]["lr"] = 0.5
    checkpoint.restore(*second)
    set_generator_state(second[0].rng, checkpoint.metadata["dropout"], "test")
    go(*second, iterations=30, start_iteration=pause,
       batch_order=checkpoint.metadata["batch_order"])  # fmt: skip
    assert second[2].last_epoch > first[2].last_epoch > 0  # the schedule did step
    assert second[1].param_groups[0]["lr"] == once[1].param_groups[0]["lr"]
    assert second[2].state() == once[2].state()
    assert_same(second[0].state_dict(), once[0].state_dict())
    assert_same(second[1].state_dict(), once[1].state_dict())
