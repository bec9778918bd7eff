namespace WebConsole;

/// <summary>One file of the console: its content type and bytes.</summary>
public sealed record ConsoleAsset(string ContentType, byte[] Content);
