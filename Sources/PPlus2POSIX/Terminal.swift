import CPPlus2Shims

/// The console's terminal in raw mode: keys arrive one by one, unechoed, and
/// Ctrl-C is a key, not a signal, so the line editor owns the line. The mode
/// the person had is put back on every way out: `restore` (the console ends),
/// `ProcessControl.exit` (`/quit`, SIGINT, SIGTERM), and a crash (the C shim's
/// handlers restore it before the runtime's own run).
public enum Terminal {
    /// Raw mode on `fd`; false if it is not a terminal.
    public static func enterRawMode(_ fd: CInt) -> Bool {
        Sys.terminalRaw(fd)
    }

    /// Puts the saved mode back; does nothing if there is none.
    public static func restore() {
        Sys.terminalRestore()
    }

    /// The width in columns; 80 when unknown.
    public static func width(_ fd: CInt) -> Int {
        let columns = Sys.terminalWidth(fd)
        return columns > 0 ? columns : 80
    }
}
