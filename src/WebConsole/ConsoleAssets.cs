using System.Collections.Frozen;
using System.Reflection;

namespace WebConsole;

/// <summary>
/// The web console's files (HTML, CSS, JavaScript), embedded in this assembly and served under <c>/console/</c>
/// by the local server and by <c>serverlessdb console</c>. The page talks only to the API at its own origin.
/// </summary>
public static class ConsoleAssets
{
    public const string Root = "/console";

    private const string ResourcePrefix = "console/";

    private static readonly FrozenDictionary<string, ConsoleAsset> Assets = Load();

    /// <summary>Whether <paramref name="path"/> is the console's (<c>/console</c> or below it).</summary>
    public static bool IsConsolePath(string? path) =>
        path is not null && (path == Root || path.StartsWith(Root + "/", StringComparison.Ordinal));

    /// <summary>The file at <paramref name="path"/> (<c>/console/</c> is <c>index.html</c>), or null.</summary>
    public static ConsoleAsset? Find(string path)
    {
        if (!IsConsolePath(path))
        {
            return null;
        }

        var name = path.Length <= Root.Length + 1 ? "index.html" : path[(Root.Length + 1)..];
        return Assets.TryGetValue(name, out var asset) ? asset : null;
    }

    private static FrozenDictionary<string, ConsoleAsset> Load()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .ToFrozenDictionary(name => name[ResourcePrefix.Length..], name => new ConsoleAsset(ContentTypeOf(name), Read(assembly, name)));
    }

    private static byte[] Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"The console's embedded file '{name}' cannot be read.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
