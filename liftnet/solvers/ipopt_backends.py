"""The two ways liftnet reaches IPOPT, behind one small interface.

* ``cyipopt``: IPOPT as a library through Pyomo's PyNumero (``PyomoNLP`` + ``CyIpoptNLP``, the
  classes behind ``SolverFactory('cyipopt')``). The driver calls them itself because
  ``SolverFactory('cyipopt').solve`` hands IPOPT the primal start only: a warm start with
  multipliers needs ``CyIpoptNLP.solve(x, lagrange, zl, zu)``.
* ``ipopt``: an ``ipopt`` executable on PATH through ``SolverFactory('ipopt')`` (ASL, ``.nl``
  file); the warm start goes through the suffixes ``dual``, ``ipopt_zL_in``, ``ipopt_zU_in``.

Multiplier signs differ (Pyomo issue #2831): for a constraint ``body <= 0`` of a minimisation,
IPOPT's own ``mult_g`` (what cyipopt returns) is ``>= 0``, the ASL ``dual`` suffix is ``<= 0``.
Each backend states ``dual_sign`` so that ``M = dual_sign * (value in the dual suffix)`` is the
MODEL.md multiplier (``M >= 0``, section 5); ``tests/solvers/test_ipopt.py`` pins it.
Both backends keep the ``dual``/``ipopt_z*`` suffixes in their own native sign.
"""

from __future__ import annotations

import contextlib
import gc
import io
import signal
import sys
import threading
import time
import traceback
import weakref
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from .._validation import stop_requested
from ._interrupt import INTERRUPTS, interrupted, is_interrupt, sigint_deferred

# IPOPT's ApplicationReturnStatus: code -> (name, liftnet status)
IPOPT_STATUS = {
    0: ("Solve_Succeeded", "converged"),
    1: ("Solved_To_Acceptable_Level", "converged"),
    2: ("Infeasible_Problem_Detected", "failed"),
    3: ("Search_Direction_Becomes_Too_Small", "failed"),
    4: ("Diverging_Iterates", "diverged"),
    5: ("User_Requested_Stop", "interrupted"),
    6: ("Feasible_Point_Found", "failed"),
    -1: ("Maximum_Iterations_Exceeded", "max_iter"),
    -2: ("Restoration_Failed", "failed"),
    -3: ("Error_In_Step_Computation", "failed"),
    -4: ("Maximum_CpuTime_Exceeded", "time_limit"),
    -5: ("Maximum_WallTime_Exceeded", "time_limit"),
    -10: ("Not_Enough_Degrees_Of_Freedom", "failed"),
    -11: ("Invalid_Problem_Definition", "failed"),
    -12: ("Invalid_Option", "failed"),
    -13: ("Invalid_Number_Detected", "failed"),
    -100: ("Unrecoverable_Exception", "failed"),
    -101: ("NonIpopt_Exception_Thrown", "failed"),
    -102: ("Insufficient_Memory", "failed"),
    -199: ("Internal_Error", "failed"),
}

# Pyomo's termination conditions (executable path) -> liftnet status
_TC_STATUS = {
    "optimal": "converged",
    "locallyOptimal": "converged",
    "globallyOptimal": "converged",
    "maxIterations": "max_iter",
    "maxTimeLimit": "time_limit",
    "userInterrupt": "interrupted",
    "unbounded": "diverged",
}
# IPOPT's AMPL driver ends a run stopped by max_cpu_time / max_wall_time with the result codes
# 401 / 402 (400: max_iter), and Pyomo's .sol reader calls every code 400-499 maxIterations;
# it keeps the code as the result's solver.id
_AMPL_TIME_LIMIT = (401, 402)


@dataclass
class Run:
    """One IPOPT call: ``status`` (liftnet's), ``ipopt_status`` (IPOPT's name, or ``"not
    started"``), ``message``, ``nit`` (IPOPT iterations), ``time`` (s, the NLP build included),
    ``objective`` (IPOPT's final value), ``build_time`` (s spent building the NLP before IPOPT
    started; None where Pyomo builds it inside the solve, the executable's ``.nl`` file)."""

    status: str
    ipopt_status: str
    message: str
    nit: int
    time: float
    objective: float = float("nan")
    build_time: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def not_started(why: str, t0: float, build_time: float | None = None) -> Run:
    """The :class:`Run` of a call that never started IPOPT because no time was left
    (``time_limit``, no iteration); ``t0`` is when the call began."""
    return Run("time_limit", "not started", f"IPOPT not started: {why}", 0,
               time.monotonic() - t0, build_time=build_time)


def _add_option(problem, name, value):
    """``problem.add_option(name, value)``, an ``int`` retried as a ``float``: cyipopt picks
    IPOPT's option type from the Python type, and IPOPT refuses an int for a real option
    (``{"tol": 1}``, ``{"max_wall_time": 10}``), which a user writes as naturally."""
    try:
        problem.add_option(name, value)
    except Exception:  # noqa: BLE001 - cyipopt's TypeError: an int for a real option
        if not isinstance(value, int):
            raise
        problem.add_option(name, float(value))


def wall_time_left(options: dict, deadline: float | None) -> float | None:
    """IPOPT's ``max_wall_time`` for a call that starts now: the seconds left until
    ``deadline`` (a ``time.monotonic()`` value), or the ``max_wall_time`` of ``options`` when
    that is smaller and a positive number (another value is IPOPT's to refuse: left out here,
    and not replaced by the backends). None without a deadline (``options`` then stand as they
    are); ``<= 0``: no time is left, and IPOPT must not start (its option needs a positive
    value)."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    own = _own_wall_time(options)
    return left if own is None else min(left, own)


def _own_wall_time(options: dict) -> float | None:
    """The ``max_wall_time`` of ``options`` where it is a positive number; None where it is
    absent or anything else (not a number, ``<= 0``, NaN: IPOPT refuses it with its own
    message)."""
    try:
        own = float(options.get("max_wall_time", np.nan))
    except (TypeError, ValueError):
        return None
    return own if own > 0 else None


def _refused_wall_time(options: dict) -> bool:
    """``options`` holds a ``max_wall_time`` that is not a positive number: IPOPT's to refuse
    with its own message (:func:`wall_time_left` leaves it out), so it is not replaced."""
    return "max_wall_time" in options and _own_wall_time(options) is None


def add_suffixes(m) -> None:
    """The suffixes both backends read and write (created once per model)."""
    if not hasattr(m, "dual"):
        m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT_EXPORT)
    for name, direction in (
        ("ipopt_zL_out", pyo.Suffix.IMPORT),
        ("ipopt_zU_out", pyo.Suffix.IMPORT),
        ("ipopt_zL_in", pyo.Suffix.EXPORT),
        ("ipopt_zU_in", pyo.Suffix.EXPORT),
    ):
        if not hasattr(m, name):
            m.add_component(name, pyo.Suffix(direction=direction))


def copy_bound_multipliers_in(m) -> None:
    """Use the last solve's bound multipliers as the next warm start."""
    m.ipopt_zL_in.clear()
    m.ipopt_zU_in.clear()
    m.ipopt_zL_in.update(m.ipopt_zL_out.items())
    m.ipopt_zU_in.update(m.ipopt_zU_out.items())


def prune_export_suffixes(m) -> None:
    """Drop warm-start entries of fixed variables and deactivated constraints (the ``.nl``
    writer leaves them out and warns about every one)."""
    for sfx in (m.ipopt_zL_in, m.ipopt_zU_in):
        for v in [v for v in sfx if v.fixed]:
            del sfx[v]
    for c in [c for c in m.dual if not c.active]:
        del m.dual[c]


@contextlib.contextmanager
def ctrl_c_requests_stop(flag):
    """Ctrl-C during an IPOPT solve sets ``flag[0]`` instead of raising KeyboardInterrupt.

    Raised inside one of IPOPT's callbacks, the KeyboardInterrupt would end the solve without
    its iterate; with the flag, the intermediate callback asks IPOPT to stop after the current
    iteration (``User_Requested_Stop``), and the point comes back with status ``interrupted``.
    Signal handlers can only be set in the main thread; elsewhere Ctrl-C is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        flag[0] = True

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class CyIpoptBackend:
    """IPOPT as a library (cyipopt) through Pyomo's PyNumero ``PyomoNLP``."""

    name = "cyipopt"
    reports_iterations = True  # solve() calls a callback after every IPOPT iteration
    dual_sign = 1.0  # IPOPT's mult_g: >= 0 at an active upper bound (minimisation)

    @staticmethod
    def available() -> bool:
        try:
            return bool(pyo.SolverFactory("cyipopt").available(exception_flag=False))
        except Exception:  # noqa: BLE001 - any import/DLL problem means "not available"
            return False

    def solve(self, m, options: dict, warm: bool, tee: bool, callback=None,
              deadline=None) -> Run:
        """One IPOPT call on ``m``. ``callback(info, load)``, when given, is called after every
        IPOPT iteration with ``info`` (``iteration``, ``objective``, ``inf_pr``, ``inf_du``,
        ``mu``, ``restoration``: IPOPT's own numbers) and ``load()``, which writes the current
        iterate (primal values, ``dual`` suffix, bound multipliers) into ``m`` and returns
        whether IPOPT had one to give (False once the callback has returned); a true return
        value stops IPOPT after this iteration (``interrupted``, "stopped by callback"). An
        exception raised by the callback stops IPOPT and is raised again after the call,
        except a KeyboardInterrupt (a Ctrl-C, or the callback's own way to stop): that is a
        stop request like Ctrl-C's, ``interrupted`` with IPOPT's point of that iteration.

        ``deadline`` (a ``time.monotonic()`` value or None): IPOPT's ``max_wall_time`` is what
        is left of it once the NLP is built (:func:`wall_time_left`); with nothing left IPOPT
        is not started (:func:`not_started`) and ``m`` keeps its values. Ctrl-C while the NLP
        is built raises KeyboardInterrupt (the build cannot stop halfway on a flag); from
        IPOPT's start until ``m`` holds its point it stops IPOPT instead
        (:func:`ctrl_c_requests_stop`): ``interrupted``, with that point.

        The NLP objects (``PyomoNLP`` and its ``AmplInterface``, ``CyIpoptNLP``) are freed
        before the call returns, with Ctrl-C held back meanwhile (:func:`_free_nlp`): left to
        the cyclic garbage collector, they were freed at some later moment (often in the next
        phase's build), and a Ctrl-C landing in ``AmplInterface.__del__`` then was printed and
        dropped by Python; the call, ``solve_ipopt`` and ``liftnet verify`` ran on to report
        success. A Ctrl-C held back there makes the call ``interrupted`` (with IPOPT's point
        in ``m``, as for one after IPOPT's last iteration), or is raised when the call is
        ending with an error of its own."""
        held = []  # the NLP objects of this call, freed here whatever happens in it
        try:
            run = self._solve(m, options, warm, tee, callback, deadline, held)
        except BaseException as exc:
            # after a Ctrl-C (in the NLP build, say), what its traceback's frames hold (the
            # NLP half built) goes too; a Ctrl-C held back there is raised instead, as one
            _free_nlp(held, exc.__traceback__ if is_interrupt(exc) else None)
            raise
        try:
            _free_nlp(held)
        except INTERRUPTS as exc:
            interrupted(exc)  # (re-raises anything else)
            if run.status != "interrupted":
                run.status, run.message = "interrupted", f"{run.message} (then Ctrl-C)"
        return run

    def _solve(self, m, options, warm, tee, callback, deadline, held) -> Run:
        """:meth:`solve`, the NLP objects it builds appended to ``held``."""
        from pyomo.common.tee import capture_output
        from pyomo.contrib.pynumero.interfaces.cyipopt_interface import CyIpoptNLP
        from pyomo.contrib.pynumero.interfaces.pyomo_nlp import PyomoNLP

        t0 = time.monotonic()
        # The warm start goes to IPOPT directly below, not through the .nl file PyomoNLP writes.
        exported = [m.dual, m.ipopt_zL_in, m.ipopt_zU_in]
        for sfx in exported:
            sfx.deactivate()
        try:
            nlp = PyomoNLP(m)
        finally:
            for sfx in exported:
                sfx.activate()
        held.append(nlp)
        cons = nlp.get_pyomo_constraints()
        xs = nlp.get_pyomo_variables()
        x0 = np.array([v.value for v in xs], dtype=float)
        iters, stop, by_callback, raised = [0], [False], [False], []
        interrupt_in_callback = [False]

        def count(nlp_, problem_, alg_mod, iter_count, obj_value, inf_pr, inf_du, mu, d_norm,
                  regularization_size, alpha_du, alpha_pr, ls_trials):
            # cyipopt's intermediate callback in Pyomo's 13-argument form (with the problem,
            # whose get_current_iterate gives the iterate); False: IPOPT stops with
            # User_Requested_Stop (interrupted)
            iters[0] = int(iter_count)
            if callback is not None and not (stop[0] or by_callback[0]):
                live = [True]  # IPOPT's iterate exists only during this call

                def load():
                    if not live[0]:
                        return False
                    it = problem_.get_current_iterate(scaled=False)
                    if it is None:
                        return False
                    _load_state(nlp, it["x"], it["mult_g"], it["mult_x_L"], it["mult_x_U"])
                    return True

                info = dict(iteration=int(iter_count), objective=float(obj_value),
                            inf_pr=float(inf_pr), inf_du=float(inf_du), mu=float(mu),
                            restoration=int(alg_mod) == 1)
                try:
                    by_callback[0] = stop_requested(callback(info, load))
                except INTERRUPTS as exc:
                    # a KeyboardInterrupt raised in the callback (or a Ctrl-C landing in it):
                    # a stop request like the SIGINT handler's, so that IPOPT returns its
                    # iterate; raised out of this callback it ended the solve without one
                    if not is_interrupt(exc):
                        raised.append(exc)
                        by_callback[0] = True
                    else:
                        stop[0] = interrupt_in_callback[0] = True
                except Exception as exc:  # noqa: BLE001 - raised again after IPOPT returns
                    raised.append(exc)
                    by_callback[0] = True
                finally:
                    live[0] = False
            return not (stop[0] or by_callback[0])

        problem = CyIpoptNLP(nlp, intermediate_callback=count)
        held.append(problem)  # (closed by _free_nlp however the call ends)
        build_time = time.monotonic() - t0
        k = v = None
        said = io.StringIO()  # IPOPT's own words on a refused option (its standard output)
        try:
            with capture_output(said, capture_fd=True):
                for k, v in options.items():
                    _add_option(problem, k, v)
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown option name
            reason = " ".join(said.getvalue().split()[:40])
            return Run(
                "failed",
                "Invalid_Option",
                # which one: cyipopt's own message names none ("Error while assigning an
                # option"), IPOPT's reason goes to its standard output, captured here
                f"IPOPT rejected the option {k!r} = {v!r}: {exc}"
                + (f" ({reason})" if reason else ""),
                0,
                time.monotonic() - t0,
                build_time=build_time,
            )
        kwargs = {}
        if warm:
            kwargs = dict(
                lagrange=np.array([m.dual.get(c, 0.0) for c in cons], dtype=float),
                zl=np.array([m.ipopt_zL_in.get(v, 0.0) for v in xs], dtype=float),
                zu=np.array([m.ipopt_zU_in.get(v, 0.0) for v in xs], dtype=float),
            )
        # IPOPT's clock starts now: the NLP build (seconds at large N, minutes at larger)
        # comes out of the caller's time, not on top of it
        left = wall_time_left(options, deadline)
        if left is not None and left <= 0:
            return not_started(f"no time left after building the NLP ({build_time:.2g} s)",
                               t0, build_time)
        if left is not None:
            problem.add_option("max_wall_time", left)
        with ctrl_c_requests_stop(stop):
            try:
                # IPOPT's log (tee) to sys.stdout, which a notebook shows and its file
                # descriptor 1 is not; without tee nothing is captured: IPOPT prints nothing
                # at print_level 0 with sb=yes (its banner off), and what the callback
                # prints is the caller's (captured and dropped until a review, 2026-12-07)
                with (capture_output(sys.stdout, capture_fd=True) if tee
                      else contextlib.nullcontext()):
                    x, info = problem.solve(x0, **kwargs)
            except Exception as exc:  # noqa: BLE001 - reported as a status, never raised
                return Run(
                    "failed",
                    "NonIpopt_Exception_Thrown",
                    f"cyipopt raised {type(exc).__name__}: {exc}",
                    iters[0],
                    time.monotonic() - t0,
                    build_time=build_time,
                )
            if raised:
                raise raised[0]
            # under the flag too: a Ctrl-C now would leave m half IPOPT's point
            _load_state(nlp, x, info["mult_g"], info["mult_x_L"], info["mult_x_U"])
        code = int(info["status"])
        name, status = IPOPT_STATUS.get(code, (f"status {code}", "failed"))
        msg = info["status_msg"]
        msg = msg.decode() if isinstance(msg, bytes) else str(msg)
        if by_callback[0] and not stop[0] and status == "interrupted":
            msg += " (stopped by callback)"
        if interrupt_in_callback[0] and status == "interrupted":
            msg += " (KeyboardInterrupt in the callback)"
        if stop[0] and status != "interrupted":  # Ctrl-C after IPOPT's last iteration
            status, msg = "interrupted", f"{msg} (then Ctrl-C)"
        return Run(
            status,
            name,
            f"IPOPT: {name}: {msg}",
            iters[0],
            time.monotonic() - t0,
            float(info["obj_val"]),
            build_time,
        )


def _free_nlp(held: list, tb=None) -> None:
    """Free the NLP objects of one IPOPT call (``held``, emptied) now, with Ctrl-C held back
    meanwhile (:func:`sigint_deferred`: one held back is raised when they are freed).

    ``CyIpoptNLP`` refers to itself through the callbacks it gave cyipopt, and holds the
    ``PyomoNLP``: left as they were, the three were freed by the cyclic garbage collector at
    some later moment, anywhere, and ``AmplInterface.__del__`` (Python code) could catch a
    Ctrl-C, which Python prints and drops. The problem is closed and its attributes dropped,
    so that the ``PyomoNLP`` and its ``AmplInterface`` go as their last reference does (what
    is left in the cycle has no Python code to run); were they held elsewhere, a collection
    frees them. A half-built ``AmplInterface`` (a Ctrl-C in its ``__init__``: no ``_obj``)
    is freed quietly: its ``__del__`` printed an ``AttributeError``. ``tb``: the traceback of
    a Ctrl-C, whose frames' variables are dropped (:func:`traceback.clear_frames`: of no use
    to a Ctrl-C's report) with what they held (an NLP build under way: its objects half built)
    and a collection follows."""
    with sigint_deferred(), _quiet_half_built_ampl():
        if tb is not None:
            traceback.clear_frames(tb)
        refs = []
        while held:
            obj = held.pop()
            if hasattr(obj, "close"):  # CyIpoptNLP: IPOPT's own problem
                obj.close()
                vars(obj).clear()  # (its PyomoNLP and the per-iteration callback)
            else:
                refs.append(weakref.ref(obj))
            del obj
        if tb is not None or any(r() is not None for r in refs):
            gc.collect()


@contextlib.contextmanager
def _quiet_half_built_ampl():
    """Inside the block, the ``AttributeError`` of a half-built PyNumero ``AmplInterface``'s
    ``__del__`` (no ``_obj``, or no library yet: a Ctrl-C stopped its ``__init__``) is not
    printed; every other error raised where Python cannot raise it (``sys.unraisablehook``)
    is, as before."""
    old = sys.unraisablehook

    def hook(unraisable):
        if not (isinstance(unraisable.exc_value, AttributeError)
                and getattr(unraisable.object, "__qualname__", "") == "AmplInterface.__del__"):
            old(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = old


def _load_state(nlp, x, mult_g, mult_x_L, mult_x_U) -> None:
    """Write an IPOPT point (primal values, constraint and bound multipliers) into the Pyomo
    model behind ``nlp``."""
    nlp.set_primals(x)
    nlp.set_duals(mult_g)
    nlp.load_state_into_pyomo(bound_multipliers=(mult_x_L, mult_x_U))


class ExecutableBackend:
    """An ``ipopt`` executable on PATH through Pyomo's ASL interface (``.nl`` file)."""

    name = "ipopt"
    reports_iterations = False  # IPOPT runs as a separate process: no callback
    dual_sign = -1.0  # ASL duals: <= 0 for an active `<=` constraint of a minimisation

    @staticmethod
    def available() -> bool:
        try:
            return bool(pyo.SolverFactory("ipopt").available(exception_flag=False))
        except Exception:  # noqa: BLE001
            return False

    def solve(self, m, options: dict, warm: bool, tee: bool, callback=None,
              deadline=None) -> Run:
        """One IPOPT call on ``m`` through a ``.nl`` file; the executable reports no
        iterations (``reports_iterations``), so ``callback`` must be None
        (:func:`liftnet.solve_ipopt` checks). ``deadline`` as for
        :meth:`CyIpoptBackend.solve`, except that Pyomo writes the ``.nl`` file inside the
        solve: its time counts against IPOPT's ``max_wall_time``."""
        if callback is not None:
            raise ValueError("callback needs the cyipopt interface (solver='cyipopt')")
        t0 = time.monotonic()
        prune_export_suffixes(m)
        opt = pyo.SolverFactory("ipopt")
        for k, v in options.items():
            opt.options[k] = v
        left = wall_time_left(options, deadline)
        if left is not None and left <= 0:
            return not_started("no time left", t0)
        if left is not None and not _refused_wall_time(options):
            opt.options["max_wall_time"] = left
        try:
            res = opt.solve(m, tee=tee, load_solutions=False)
        except Exception as exc:  # noqa: BLE001 - reported as a status, never raised
            return Run(
                "failed",
                "NonIpopt_Exception_Thrown",
                f"ipopt raised {type(exc).__name__}: {exc}",
                0,
                time.monotonic() - t0,
            )
        tc = str(res.solver.termination_condition)
        if getattr(res.solver, "id", None) in _AMPL_TIME_LIMIT:  # (Pyomo said maxIterations)
            tc = "maxTimeLimit"
        status = _TC_STATUS.get(tc, "failed")
        # Pyomo's .sol reader escapes the colons of the solver's message
        msg = str(getattr(res.solver, "message", "") or tc).replace("\\x3a", ":")
        objective = float("nan")  # no point from IPOPT: m still holds the start
        if len(res.solution) > 0:
            m.solutions.load_from(res)
            value = pyo.value(m.F, exception=False)
            objective = float("nan") if value is None else float(value)
        nit = 0
        try:
            nit = int(res.solver.statistics.number_of_iterations)  # not every version sets it
        except (AttributeError, TypeError, ValueError):
            pass
        return Run(
            status,
            tc,
            f"IPOPT: {tc}: {msg}",
            nit,
            time.monotonic() - t0,
            objective,
        )


BACKENDS = {"cyipopt": CyIpoptBackend, "ipopt": ExecutableBackend}


def select_backend(solver):
    """The backend for ``solver`` (``None``: cyipopt if importable, else an executable).

    Returns ``(backend or None, reason)``; ``None`` with the reason when nothing is available.
    """
    if solver is None:
        for cls in (CyIpoptBackend, ExecutableBackend):
            if cls.available():
                return cls(), ""
        return None, (
            "no IPOPT available: neither the cyipopt library (pip install "
            "cyipopt-wheels) nor an `ipopt` executable on PATH"
        )
    if not isinstance(solver, str) or solver not in BACKENDS:
        raise ValueError(f"solver must be None, 'cyipopt' or 'ipopt', got {solver!r}")
    cls = BACKENDS[solver]
    if not cls.available():
        return None, f"solver={solver!r} is not available on this machine"
    return cls(), ""
