-- One setting: psql variables :name and :value, quoted by psql (never pasted into SQL).
ALTER SYSTEM SET :"name" = :'value';
