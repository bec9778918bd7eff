Console.Error.WriteLine("The local server is being written.");
return 1;
