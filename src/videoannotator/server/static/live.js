// Live counts: keeps the header's figures and the open label's state true while the page is open.
