"""Reports as documents people keep: SVG charts, the printable quarterly service-quality report
(HTML, and PDF through WeasyPrint from the same HTML) and Excel workbooks (openpyxl)."""
