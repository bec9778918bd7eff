namespace ServerlessDb.Storage;

/// <summary>Reads every caller of an <see cref="IObjectBackend"/> would otherwise write again.</summary>
internal static class ObjectBackendReads
{
    /// <summary>
    /// The object at <paramref name="key"/> with at most <paramref name="maxBytes"/> of its bytes read (<see cref="SmallObject.IsWhole"/>
    /// when they are all of it); null when there is none. For small objects: leases, manifests.
    /// </summary>
    public static async Task<SmallObject?> GetSmallAsync(this IObjectBackend backend, string key, ObjectSelector selector, int maxBytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        using var read = await backend.GetAsync(key, selector, cancellationToken);
        if (read.Info is not { } info)
        {
            return null;
        }

        // One byte more than asked tells a whole object from a longer one; the rest is never read.
        var buffer = new byte[maxBytes + 1];
        var length = 0;
        int count;
        while (length < buffer.Length && (count = await read.Body!.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += count;
        }

        return new SmallObject(info, buffer[..Math.Min(length, maxBytes)], IsWhole: length <= maxBytes);
    }
}

/// <summary>A small object as read: what is stored, its first bytes, and whether they are all of it.</summary>
internal sealed record SmallObject(ObjectInfo Info, byte[] Content, bool IsWhole);
