// The anchor for an idle peer: a Swift program that imports only Glibc, says
// it is ready, and waits. Its memory and start-up time are the floor.
import Glibc

fputs("ready\n", stderr)
pause()
