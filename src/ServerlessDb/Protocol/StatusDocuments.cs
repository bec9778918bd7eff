using System.Text.Json;

namespace ServerlessDb.Protocol;

/// <summary>
/// /status and /readyz, answered as rqlite's healthy single node, so clients that check for a leader
/// before sending work are satisfied.
/// </summary>
public static class StatusDocuments
{
    /// <summary>The rqlite data-API version this service follows, for clients that look at it.</summary>
    public const string RqliteVersion = "v8.0.0";

    public const string NodeId = "serverlessdb";

    public static string Status(string address, DateTimeOffset startedAt, DateTimeOffset now)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartObject("build");
            json.WriteString("version", StatusDocuments.RqliteVersion);
            json.WriteString("service", "ServerlessDb");
            json.WriteEndObject();
            json.WriteStartObject("http");
            json.WriteString("bind_addr", address);
            json.WriteEndObject();
            json.WriteStartObject("node");
            json.WriteString("start_time", startedAt);
            json.WriteString("uptime", (now - startedAt).ToString("c", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.WriteStartObject("store");
            json.WriteString("node_id", NodeId);
            json.WriteString("addr", address);
            json.WriteBoolean("ready", true);
            json.WriteStartObject("leader");
            json.WriteString("addr", address);
            json.WriteString("node_id", NodeId);
            json.WriteEndObject();
            json.WriteStartObject("raft");
            json.WriteString("state", "Leader");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public const string Ready = "[+]node ok\n[+]leader ok\n[+]store ok\n";
}
