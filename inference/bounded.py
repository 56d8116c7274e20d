"""One untrusted parse in a child process under a CPU-time limit: a file cheap to send and
dear to decode holds the calling web process or worker for seconds at most, whatever trick
it uses, and a decoder that crashes takes only the child down. The checks in
inference.images refuse the tricks known today before decoding; this bounds the rest."""

import multiprocessing
import resource
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

# A plain fork: the child starts in milliseconds with the decoders already imported, and
# nothing is pickled on the way in. (A fork server would import the main module again in
# every child where it cannot preload it: seconds, with TensorFlow.) The child runs only
# the function and leaves by os._exit, never touching the locks or connections other
# threads of the parent may hold.
_context = multiprocessing.get_context("fork")


class TooCostly(Exception):
    """The call used up its CPU time, or ran past its wall-clock time."""


class Crashed(Exception):
    """The child died without answering (a crash in a C decoder, or killed for memory)."""


def _child(sending: Connection, cpu_seconds: int, function: Callable, args: tuple, kwargs: dict) -> None:
    # Past the soft limit the kernel sends SIGXCPU, whose default action ends the process.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    try:
        answer = (True, function(*args, **kwargs))
    except Exception as error:  # handed to the caller, who raises it as its own
        answer = (False, error)
    try:
        sending.send(answer)
    except Exception as error:  # an answer that cannot be pickled
        sending.send((False, RuntimeError(f"{function.__name__} failed: {error!r}")))


def run_bounded(function: Callable, *args: Any, cpu_seconds: int, wall_seconds: float, **kwargs: Any) -> Any:
    """function(*args, **kwargs) in a child process with at most `cpu_seconds` of CPU and
    `wall_seconds` of waiting; its exceptions are raised here. The function, its arguments
    and its result travel pickled."""
    receiving, sending = _context.Pipe(duplex=False)
    process = _context.Process(target=_child, args=(sending, cpu_seconds, function, args, kwargs), daemon=True)
    process.start()
    sending.close()  # the child holds the other copy: its death reads as end of file here
    try:
        if not receiving.poll(wall_seconds):
            raise TooCostly(f"{function.__name__} ran past {wall_seconds:g} s")
        succeeded, value = receiving.recv()
    except EOFError:
        process.join()
        if process.exitcode == -signal.SIGXCPU:
            raise TooCostly(f"{function.__name__} used its {cpu_seconds} s of CPU") from None
        raise Crashed(f"{function.__name__} died with exit code {process.exitcode}") from None
    finally:
        receiving.close()
        process.join(timeout=1)  # a child that answered is on its way out
        if process.is_alive():
            process.kill()
            process.join()
    if succeeded:
        return value
    raise value
