using System.Text.Encodings.Web;
using System.Text.Json;
using ServerlessDb.Domain;

namespace ServerlessDb.Protocol;

/// <summary>
/// /status and /readyz, answered as rqlite's healthy single node, so clients that check for a leader
/// before sending work are satisfied.
/// </summary>
internal static class StatusDocuments
{
    /// <summary>The rqlite data-API version this service follows, for clients that look at it.</summary>
    public const string RqliteVersion = "v8.0.0";

    public const string NodeId = "serverlessdb";

    /// <summary>
    /// The fields rqlite's single node reports that clients read (build.version, store.leader,
    /// store.ready, store.raft.state, node.uptime, and the runtime and os sections whose presence
    /// rqlite-js's own tests check), with rqlite's types: times as Go writes them
    /// (RFC 3339 with nanoseconds), uptime as a Go duration, keys sorted as Go sorts a map's.
    /// </summary>
    public static string Status(string address, DateTimeOffset startedAt, DateTimeOffset now) =>
        Status(address, startedAt, now, ProcessFacts.Current());

    public static string Status(string address, DateTimeOffset startedAt, DateTimeOffset now, ProcessFacts process)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("build");
            json.WriteString("service", "ServerlessDb");
            json.WriteString("version", StatusDocuments.RqliteVersion);
            json.WriteEndObject();
            json.WriteStartObject("http");
            json.WriteString("bind_addr", address);
            json.WriteEndObject();
            json.WriteStartObject("node");
            json.WriteString("current_time", GoTimeText(now));
            json.WriteString("start_time", GoTimeText(startedAt));
            json.WriteString("uptime", GoDuration.Format(now - startedAt));
            json.WriteEndObject();
            json.WriteStartObject("os");
            if (process.Executable is not null)
            {
                json.WriteString("executable", process.Executable);
            }

            json.WriteString("hostname", process.HostName);
            json.WriteNumber("page_size", process.PageSize);
            json.WriteNumber("pid", process.ProcessId);
            json.WriteEndObject();
            json.WriteStartObject("runtime");
            json.WriteString("GOARCH", process.Architecture);
            json.WriteNumber("GOMAXPROCS", process.ProcessorCount);
            json.WriteString("GOOS", process.OperatingSystem);
            json.WriteNumber("num_cpu", process.ProcessorCount);
            json.WriteNumber("num_goroutine", process.ThreadCount);
            json.WriteString("version", process.RuntimeVersion);
            json.WriteEndObject();
            json.WriteStartObject("store");
            json.WriteString("addr", address);
            json.WriteStartObject("leader");
            json.WriteString("addr", address);
            json.WriteString("node_id", NodeId);
            json.WriteEndObject();
            json.WriteString("node_id", NodeId);
            json.WriteStartObject("raft");
            json.WriteString("state", "Leader");
            json.WriteEndObject();
            json.WriteBoolean("ready", true);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A time as Go's JSON writes it (RFC 3339 with the nanoseconds it has).</summary>
    public static string GoTimeText(DateTimeOffset time) =>
        GoTime.FromDateTimeOffset(time).TryFormat(out var text) ? text : time.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// rqlite's /readyz body for a ready node, byte for byte (rqlite 8 and 9; no final newline):
    /// <c>noleader</c> asks only whether the node answers, and <c>sync</c> adds the line saying every
    /// write this node acknowledged is applied, which is true here when a write is answered.
    /// </summary>
    public static string Readiness(bool noLeader, bool sync) => (noLeader, sync) switch
    {
        (true, _) => "[+]node ok",
        (false, true) => "[+]node ok\n[+]leader ok\n[+]store ok\n[+]sync ok",
        (false, false) => "[+]node ok\n[+]leader ok\n[+]store ok",
    };
}
