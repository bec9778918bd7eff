using System.Text;
using System.Text.Json;
using ServerlessDb.Domain;

namespace ServerlessDb.Protocol;

/// <summary>
/// Time travel's JSON answers. <c>GET /db/versions</c>:
/// <c>{"versions":[{"id":"...","time":"RFC 3339","size":N,"current":true},...],"next":"..."}</c>, newest first,
/// <c>next</c> only when there is another page. <c>POST /db/restore</c>: <c>{"restored":"ID","version":"NEW ID"}</c>.
/// Times are written as Go (and rqlite) writes them: RFC 3339 in UTC, trailing zeros of the fraction dropped.
/// </summary>
internal static class VersionsJsonWriter
{
    public static string Page(HistoryPage page) => Write(json =>
    {
        json.WriteStartArray("versions");
        foreach (var version in page.Versions)
        {
            json.WriteStartObject();
            json.WriteString("id", version.Id);
            json.WriteString("time", StatusDocuments.GoTimeText(version.Time));
            json.WriteNumber("size", version.Size);
            json.WriteBoolean("current", version.IsCurrent);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (page.Next is { } next)
        {
            json.WriteString("next", next);
        }
    });

    /// <param name="newVersionId">null when the store did not name the new version (a bucket without versioning).</param>
    public static string Restored(string restoredId, string? newVersionId) => Write(json =>
    {
        json.WriteString("restored", restoredId);
        if (newVersionId is null)
        {
            json.WriteNull("version");
        }
        else
        {
            json.WriteString("version", newVersionId);
        }
    });

    private static string Write(Action<Utf8JsonWriter> members)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            members(json);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
