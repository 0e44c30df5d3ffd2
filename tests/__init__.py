"""The xinqiao test suite; mirrors src/xinqiao/."""
