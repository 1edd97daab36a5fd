import Foundation
import NetScript

/// The thread that runs the interpreter; Ctrl-C is forwarded to it so a blocked read there
/// (the REPL's prompt, a socket) is interrupted.
nonisolated(unsafe) var interpreterThread: pthread_t? = nil

/// Ctrl-C sets the interrupt flag, which the interpreter checks in loops, calls and waits;
/// a second Ctrl-C before the first was noticed ends the process.
func installInterruptHandler() {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in
        if let t = interpreterThread, pthread_equal(pthread_self(), t) == 0 {
            pthread_kill(t, SIGINT)
            return
        }
        if interruptFlag.load(ordering: .relaxed) {
            _exit(130)
        }
        interruptFlag.store(true, ordering: .relaxed)
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = 0   // no SA_RESTART: a blocked read returns early (SysCall sees it)
    sigaction(SIGINT, &action, nil)
    signal(SIGPIPE, SIG_IGN)
}
