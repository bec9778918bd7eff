namespace ServerlessDb.Configuration;

/// <summary>A variable a reader looks up, and the value it takes when unset, as README writes it.</summary>
/// <param name="Default">null when there is none: the variable is required, or unset means off.</param>
internal sealed record VariableDescriptor(string Name, string? Default);
