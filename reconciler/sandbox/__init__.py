"""The sandbox: SleekFlow's side, simulated over the local workspace (``sandbox serve``)."""
