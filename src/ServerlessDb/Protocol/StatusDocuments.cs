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
    /// store.ready, store.raft.state, node.uptime...), with rqlite's types: times as Go writes them
    /// (RFC 3339 with nanoseconds), uptime as a Go duration, keys sorted as Go sorts a map's.
    /// </summary>
    public static string Status(string address, DateTimeOffset startedAt, DateTimeOffset now)
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

    internal static string GoTimeText(DateTimeOffset time) =>
        GoTime.FromDateTimeOffset(time).TryFormat(out var text) ? text : time.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    public const string Ready = "[+]node ok\n[+]leader ok\n[+]store ok\n";
}
