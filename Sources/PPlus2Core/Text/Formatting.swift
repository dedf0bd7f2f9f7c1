/// Human-readable numbers for the console, without Foundation.
public enum Formatting {
    /// `512 B`, `12.3 KiB`, `4.0 MiB`, `1.5 GiB`.
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : "\(decimal(value, places: 1)) \(units[unit])"
    }

    /// `0.25 s`, `12.0 s`, `3 min 05 s`.
    public static func seconds(_ value: Double) -> String {
        if value < 10 { return "\(decimal(value, places: 2)) s" }
        if value < 60 { return "\(decimal(value, places: 1)) s" }
        let whole = Int(value.rounded())
        let secondsPart = whole % 60
        return "\(whole / 60) min \(secondsPart < 10 ? "0" : "")\(secondsPart) s"
    }

    /// A transfer rate such as `85.2 MiB/s`.
    public static func rate(bytes count: Int64, seconds: Double) -> String {
        guard seconds > 0 else { return "-" }
        return "\(bytes(Int64(Double(count) / seconds)))/s"
    }

    /// `value` rounded to `places` decimals, as text (`2.50`, `0.1`).
    public static func decimal(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e17 else { return "\(value)" }
        let integer = Int64(scaled)
        let whole = integer / Int64(scale)
        var fraction = places > 0 ? String(integer % Int64(scale)) : ""
        while fraction.count < places { fraction = "0" + fraction }
        let sign = value < 0 && scaled != 0 ? "-" : ""
        return places > 0 ? "\(sign)\(whole).\(fraction)" : "\(sign)\(whole)"
    }
}
