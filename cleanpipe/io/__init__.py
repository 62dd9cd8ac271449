"""Reading inputs, writing outputs, and the published record schema."""
