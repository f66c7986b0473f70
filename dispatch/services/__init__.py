"""Services: the only code that writes. Each public function is one transaction."""
