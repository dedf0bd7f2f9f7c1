import CPPlus2Shims
import Glibc

// MARK: Threads, mutexes and condition variables

extension Sys {
    static func createThread(
        _ argument: UnsafeMutableRawPointer,
        _ start: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?
    ) throws(IOFailure) -> pthread_t {
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, start, argument)
        // pthread calls return the error number instead of setting errno.
        guard result == 0 else { throw .system(call: "pthread_create", errno: Errno(result)) }
        return handle
    }

    static func joinThread(_ handle: pthread_t) {
        _ = pthread_join(handle, nil)
    }

    static func nameThisThread(_ name: String) {
        cpplus2_name_this_thread(name)
    }

    /// Lowers the calling thread's scheduling priority to `niceness` (19: the lowest); best effort.
    static func lowerThisThreadsPriority(to niceness: CInt) {
        _ = cpplus2_set_this_thread_niceness(niceness)
    }

    static func initializeMutex(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        pthread_mutex_init(mutex, nil)
    }

    static func destroyMutex(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        pthread_mutex_destroy(mutex)
    }

    static func lock(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        pthread_mutex_lock(mutex)
    }

    static func unlock(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        pthread_mutex_unlock(mutex)
    }

    /// A condition variable that times out on the monotonic clock.
    static func initializeMonotonicCondition(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    static func destroyCondition(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
        pthread_cond_destroy(condition)
    }

    static func wait(_ condition: UnsafeMutablePointer<pthread_cond_t>, _ mutex: UnsafeMutablePointer<pthread_mutex_t>)
    {
        pthread_cond_wait(condition, mutex)
    }

    /// Waits until the monotonic `deadline`; false when it passed.
    static func wait(
        _ condition: UnsafeMutablePointer<pthread_cond_t>,
        _ mutex: UnsafeMutablePointer<pthread_mutex_t>,
        until deadline: Double
    ) -> Bool {
        let whole = deadline.rounded(.down)
        var time = timespec(tv_sec: Int(whole), tv_nsec: Int((deadline - whole) * 1e9))
        return pthread_cond_timedwait(condition, mutex, &time) != ETIMEDOUT
    }

    static func signal(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
        pthread_cond_signal(condition)
    }

    static func broadcast(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
        pthread_cond_broadcast(condition)
    }
}
