using Microsoft.Win32.SafeHandles;

namespace ServerlessDb.Vfs;

/// <summary>
/// A pinned version made writable without copying it: the units (<see cref="UnitBytes"/>-aligned parts of the file)
/// that writes changed live in a slot file of their own, indexed in memory by unit; every other byte is the base's,
/// read through the block cache. So a write that changes a few pages of a large database keeps a few units on disk.
/// </summary>
/// <remarks>
/// <para>
/// A unit is written whole: a write that covers only part of one first reads the rest (from its slot, the base or
/// zeros), so a failed read leaves the unit as it was. Past <see cref="Length"/> every byte reads as zero: truncation
/// zeroes the tail of the unit it cuts and forgets the units past it, and the base is visible only below the lowest
/// length the file ever had, so a file that shrinks and grows again never shows the base's old bytes.
/// </para>
/// <para>Thread-safe (one lock): SQLite's connection and the lease's readers never interleave within a call.</para>
/// </remarks>
internal sealed class CopyOnWriteOverlay : IDisposable
{
    /// <summary>The unit of the overlay: SQLite writes whole pages (512 to 65536 bytes), mostly of this size.</summary>
    public const int UnitBytes = 4096;

    private readonly object _gate = new();
    private readonly LazyOpenFile _base;
    private readonly SafeFileHandle _slots;
    private readonly Dictionary<long, int> _slotOfUnit = [];
    private readonly Stack<int> _freeSlots = new();
    private int _slotCount;
    private long _length;
    private long _baseVisibleBelow;

    /// <param name="baseFile">Reads the pinned version the overlay lies over.</param>
    /// <param name="path">The slot file to create (it must not exist); deleted when the overlay is disposed.</param>
    public CopyOnWriteOverlay(LazyOpenFile baseFile, string path)
    {
        _base = baseFile;
        Path = path;
        _slots = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        _length = baseFile.Length;
        _baseVisibleBelow = baseFile.Length;
    }

    /// <summary>The slot file.</summary>
    public string Path { get; }

    /// <summary>The file's length now.</summary>
    public long Length
    {
        get
        {
            lock (_gate)
            {
                return _length;
            }
        }
    }

    /// <summary>The bytes the slot file holds on disk (slots freed by truncation are reused, not given back).</summary>
    public long OverlayBytes
    {
        get
        {
            lock (_gate)
            {
                return (long)_slotCount * UnitBytes;
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="into"/> with the file's bytes from <paramref name="offset"/>, which must lie within
    /// <see cref="Length"/>; base bytes are waited for until <paramref name="cancellationToken"/> fires.
    /// </summary>
    public void Read(Span<byte> into, long offset, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (offset < 0 || offset + into.Length > _length)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), offset, $"{into.Length} bytes at {offset} do not lie within the file's {_length} bytes.");
            }

            ReadUnits(into, offset, cancellationToken);
        }
    }

    /// <summary>
    /// Writes <paramref name="data"/> at <paramref name="offset"/>, growing the file when it ends past
    /// <see cref="Length"/> (a gap between reads as zeros). Parts of units it does not cover are read first, until
    /// <paramref name="cancellationToken"/>, so a failed read changes nothing.
    /// </summary>
    public void Write(ReadOnlySpan<byte> data, long offset, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (data.IsEmpty)
        {
            return;
        }

        lock (_gate)
        {
            var firstUnit = offset / UnitBytes;
            var lastUnit = (offset + data.Length - 1) / UnitBytes;
            var units = new byte[(lastUnit - firstUnit + 1) * UnitBytes];
            var offsetInUnits = (int)(offset - firstUnit * UnitBytes);
            if (offsetInUnits != 0)
            {
                ReadUnits(units.AsSpan(0, UnitBytes), firstUnit * UnitBytes, cancellationToken);
            }

            if ((offsetInUnits + data.Length) % UnitBytes != 0 && (lastUnit != firstUnit || offsetInUnits == 0))
            {
                ReadUnits(units.AsSpan(units.Length - UnitBytes), lastUnit * UnitBytes, cancellationToken);
            }

            data.CopyTo(units.AsSpan(offsetInUnits));
            for (var unit = firstUnit; unit <= lastUnit; unit++)
            {
                WriteUnit(unit, units.AsSpan((int)(unit - firstUnit) * UnitBytes, UnitBytes));
            }

            _length = Math.Max(_length, offset + data.Length);
        }
    }

    /// <summary>Sets the file's length: the units past it are forgotten, the bytes past it read as zeros if it grows again.</summary>
    public void Truncate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        lock (_gate)
        {
            var keptUnits = (length + UnitBytes - 1) / UnitBytes;
            foreach (var unit in _slotOfUnit.Keys.Where(unit => unit >= keptUnits).ToList())
            {
                _freeSlots.Push(_slotOfUnit[unit]);
                _slotOfUnit.Remove(unit);
            }

            var cutInUnit = (int)(length % UnitBytes);
            if (cutInUnit != 0 && _slotOfUnit.TryGetValue(length / UnitBytes, out var slot))
            {
                RandomAccess.Write(_slots, new byte[UnitBytes - cutInUnit], SlotOffset(slot) + cutInUnit);
            }

            _length = length;
            _baseVisibleBelow = Math.Min(_baseVisibleBelow, length);
        }
    }

    /// <summary>
    /// The byte ranges of the file now that may differ from the base, in ascending order, merged: the units written
    /// (some may hold the base's bytes again, as after a rollback), and everything from where the base stopped being
    /// visible (growth, or a cut) up to <see cref="Length"/>. Every other byte below <see cref="Length"/> is the base's.
    /// </summary>
    public IReadOnlyList<(long Offset, long Length)> ChangedRanges()
    {
        lock (_gate)
        {
            var written = _slotOfUnit.Keys.Order().Select(unit => (Start: unit * UnitBytes, End: Math.Min((unit + 1) * UnitBytes, _length)));
            var notBase = _length > _baseVisibleBelow ? [(Start: _baseVisibleBelow, End: _length)] : Array.Empty<(long Start, long End)>();
            var ranges = new List<(long Offset, long Length)>();
            long runStart = 0, runEnd = -1;
            foreach (var (start, end) in written.Where(range => range.Start < _baseVisibleBelow).Concat(notBase))
            {
                if (start > runEnd)
                {
                    if (runEnd > runStart)
                    {
                        ranges.Add((runStart, runEnd - runStart));
                    }

                    runStart = start;
                }

                runEnd = Math.Max(runEnd, end);
            }

            if (runEnd > runStart)
            {
                ranges.Add((runStart, runEnd - runStart));
            }

            return ranges;
        }
    }

    /// <summary>Closes and so deletes the slot file.</summary>
    public void Dispose() => _slots.Dispose();

    /// <summary>Reads units' bytes whatever <see cref="Length"/> says (past it they are zeros); called under the gate.</summary>
    private void ReadUnits(Span<byte> into, long offset, CancellationToken cancellationToken)
    {
        while (!into.IsEmpty)
        {
            var unit = offset / UnitBytes;
            var offsetInUnit = (int)(offset % UnitBytes);
            var part = into[..Math.Min(into.Length, UnitBytes - offsetInUnit)];
            if (_slotOfUnit.TryGetValue(unit, out var slot))
            {
                ReadSlot(slot, offsetInUnit, part);
            }
            else
            {
                var fromBase = (int)Math.Clamp(_baseVisibleBelow - offset, 0, part.Length);
                _base.ReadPinned(part[..fromBase], offset, cancellationToken);
                part[fromBase..].Clear();
            }

            into = into[part.Length..];
            offset += part.Length;
        }
    }

    private void ReadSlot(int slot, int offsetInUnit, Span<byte> into)
    {
        var read = RandomAccess.Read(_slots, into, SlotOffset(slot) + offsetInUnit);
        if (read != into.Length)
        {
            throw new IOException($"The overlay file {Path} gave {read} of {into.Length} bytes at slot {slot}.");
        }
    }

    /// <summary>Writes a whole unit to its slot, taking a slot for it first if it has none; called under the gate.</summary>
    private void WriteUnit(long unit, ReadOnlySpan<byte> bytes)
    {
        if (_slotOfUnit.TryGetValue(unit, out var slot))
        {
            RandomAccess.Write(_slots, bytes, SlotOffset(slot));
            return;
        }

        var reused = _freeSlots.TryPop(out slot);
        if (!reused)
        {
            slot = _slotCount;
        }

        try
        {
            RandomAccess.Write(_slots, bytes, SlotOffset(slot));
        }
        catch
        {
            if (reused)
            {
                _freeSlots.Push(slot);
            }

            throw;
        }

        if (!reused)
        {
            _slotCount++;
        }

        _slotOfUnit.Add(unit, slot);
    }

    private static long SlotOffset(int slot) => (long)slot * UnitBytes;
}
