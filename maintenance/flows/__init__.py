"""Work that crosses the domains, in one direction: registering tickets (SLA from sla/, dispatch
from dispatch/, the work-order records from work_orders/), escalating them, moving them on, and
the unit of work that keeps the technicians' workload counters in step. The domains below never
import this package; alarms/ and plans/ use it to open their tickets."""
