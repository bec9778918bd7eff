using System.Text;
using ServerlessDb.Domain;
using ServerlessDb.Errors;

namespace ServerlessDb.Engine;

/// <summary>
/// Counts roughly how many bytes of JSON the results of a request will take, and stops the request
/// with a 413 before a huge result is held in memory. The response writer enforces the exact limit.
/// </summary>
internal sealed class ResultBudget(int maxBytes)
{
    private long _used;

    public void Charge(object? value) => Add(value switch
    {
        null => 4,
        string text => Encoding.UTF8.GetByteCount(text) + 3,
        byte[] blob => (blob.Length + 2) / 3 * 4 + 3,
        _ => 21,
    });

    public void Add(long bytes)
    {
        _used += bytes;
        if (_used > maxBytes)
        {
            throw new PayloadTooLargeException(RequestMessages.ResultTooLarge(maxBytes));
        }
    }
}
