namespace LockReaper;

/// <summary>The LockReaper Lambda entry point (being written).</summary>
public sealed class Function
{
}
