"""Use cases: typed options in, a Report out. The CLI maps flags to these options; nothing here prints."""
