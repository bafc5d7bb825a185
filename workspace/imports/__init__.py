"""Bulk imports: a CSV of deposits, withdrawals and transfers between Flux accounts.

Two steps, so that no web request runs for minutes and a page reload loses nothing:

1. `import_create` (services) reads the whole file, refuses it outright when it is not a CSV of the expected
   header and size, and otherwise validates every line (shape, amount, IBANs of open Flux
   accounts) and stores each one with its result: `valid` or `invalid` with the reason.
2. `import_apply_next` (services) applies the next `limit` valid lines (a chunk) through the batch path of
   the API (banking.services.movements_apply: the accounts locked once, every line under the rules
   of the counter and the API, everything written together), and records each line's result in
   the same database transaction as the money it moved: a chunk is applied whole or not at all,
   and a repeated chunk request, a reload, or the same file uploaded again never moves money
   twice (a second upload's lines say "already applied"). A refusal (insufficient funds, an
   account frozen since validation) is that line's result, not the file's, and the first answer is
   the answer: uploading the same file again refuses those lines again, saying which import
   refused them, rather than applying them after the staff member, told "refused", may have
   settled them another way. To try a refused line again, send it in a new file.

Every upload of one file applies under the lock of its first upload (`first_upload`), so two chunks,
or two uploads of the same file by two members of staff, never apply a line twice. Only the
uploader applies a batch (they are its operations' initiator). 10,000 lines apply in 10 chunks of
1,000, each about half a second (benchmarks/bulk_import.py).
"""
