using System.Text;

namespace QueryRunner.ApiGateway;

/// <summary>Turns an event's body string into the bytes the client sent.</summary>
internal static class EventBody
{
    public static ReadOnlyMemory<byte> Decode(string? body, bool isBase64Encoded)
    {
        if (string.IsNullOrEmpty(body))
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (!isBase64Encoded)
        {
            return Encoding.UTF8.GetBytes(body);
        }

        try
        {
            return Convert.FromBase64String(body);
        }
        catch (FormatException e)
        {
            throw new InvalidEventException(EventMessages.BodyNotBase64, e);
        }
    }
}
