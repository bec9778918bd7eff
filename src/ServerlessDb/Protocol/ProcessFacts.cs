using System.Runtime.InteropServices;

namespace ServerlessDb.Protocol;

/// <summary>
/// What /status reports about the process in rqlite's <c>runtime</c> and <c>os</c> sections, under Go's
/// names: the architecture and OS as Go spells them (<c>amd64</c>, <c>linux</c>), the runtime's version
/// (.NET's, where rqlite's says Go's), and thread-pool threads where rqlite counts goroutines.
/// </summary>
internal sealed record ProcessFacts(
    string Architecture,
    string OperatingSystem,
    int ProcessorCount,
    int ThreadCount,
    string RuntimeVersion,
    int ProcessId,
    string? Executable,
    string HostName,
    int PageSize)
{
    public static ProcessFacts Current() => new(
        GoArchitecture(RuntimeInformation.ProcessArchitecture),
        GoOperatingSystem(),
        Environment.ProcessorCount,
        ThreadPool.ThreadCount,
        RuntimeInformation.FrameworkDescription,
        Environment.ProcessId,
        Environment.ProcessPath,
        Environment.MachineName,
        Environment.SystemPageSize);

    private static string GoArchitecture(Architecture architecture) => architecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        _ => architecture.ToString().ToLowerInvariant(),
    };

    private static string GoOperatingSystem() =>
        System.OperatingSystem.IsLinux() ? "linux"
        : System.OperatingSystem.IsMacOS() ? "darwin"
        : System.OperatingSystem.IsWindows() ? "windows"
        : System.OperatingSystem.IsFreeBSD() ? "freebsd"
        : RuntimeInformation.OSDescription.ToLowerInvariant();
}
