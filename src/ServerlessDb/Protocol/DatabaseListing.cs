using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Protocol;

/// <summary>
/// <c>GET /db/databases</c> on the wire: <c>limit</c> (1 to <see cref="MaxLimit"/>, <see cref="DefaultLimit"/>
/// by default) and <c>next</c> (the token a previous page gave) in; <c>{"databases": [{"name", "size",
/// "last_modified"}], "next"}</c> out, with <c>next</c> only when more may follow.
/// </summary>
internal static class DatabaseListing
{
    public const int DefaultLimit = 100;

    public const int MaxLimit = 1000;

    /// <summary>A listing's <c>limit</c> (the databases' and the versions'): 1 to <see cref="MaxLimit"/>, <see cref="DefaultLimit"/> when absent.</summary>
    /// <exception cref="BadRequestException">it is not a whole number in range.</exception>
    public static int ParseLimit(string? text) =>
        text is null ? DefaultLimit
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) && limit is >= 1 and <= MaxLimit ? limit
        : throw new BadRequestException(ProtocolMessages.InvalidLimit(text, MaxLimit));

    /// <exception cref="BadRequestException">limit is not a whole number in range, or next is not a token a page gave.</exception>
    public static (string? After, int Limit) Parse(IReadOnlyDictionary<string, string> query)
    {
        var limit = ParseLimit(query.TryGetValue("limit", out var text) ? text : null);
        string? after = null;
        if (query.TryGetValue("next", out var next))
        {
            after = DatabaseName.IsValid(next) ? next : throw new BadRequestException(ProtocolMessages.InvalidPageToken(next));
        }

        return (after, limit);
    }

    public static string Write(DatabasePage page)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartArray("databases");
            foreach (var database in page.Databases)
            {
                json.WriteStartObject();
                json.WriteString("name", database.Name);
                json.WriteNumber("size", database.Size);
                json.WriteString("last_modified", StatusDocuments.GoTimeText(database.LastModified));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (page.Next is { } next)
            {
                json.WriteString("next", next);
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
